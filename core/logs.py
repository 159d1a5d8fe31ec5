"""Log plumbing: secrets never reach a handler, and production logs are JSON lines."""

import contextvars
import json
import logging
import re

# access_token=..., component_access_token=..., and JSON/XML-ish "..._token": "..." pairs.
_SECRET_PATTERNS = [
    re.compile(
        r"(?P<key>(?:component_)?access_token|authorizer_(?:access|refresh)_token|refresh_token"
        r"|component_appsecret|component_secret|appsecret|secret|pre_auth_code|auth_code"
        r"|authorization_code|ComponentVerifyTicket|component_verify_ticket)"
        r"(?P<sep>[\"']?\s*[=:]\s*[\"']?)(?P<value>[^&\s\"',<>}]+)",
        re.IGNORECASE,
    ),
    re.compile(r"(?P<key>Bearer)(?P<sep>\s+)(?P<value>[A-Za-z0-9._~+/=-]+)"),
    # URL paths: the merchant invite (a 7-day bearer credential) in /authorize/<invite>/...,
    # and the openid (personal data) in /api/v1/authorizers/{appid}/users/{openid}/tags;
    # "users/tags" is the bulk route, not an openid.
    re.compile(r"(?P<key>/authorize)(?P<sep>/)(?P<value>[^/\s?#\"']+)"),
    re.compile(r"(?P<key>/users)(?P<sep>/)(?!tags(?:[/?#\s\"']|$))(?P<value>[^/\s?#\"']+)"),
]


def mask_secrets(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group('key')}{m.group('sep')}***", text)
    return text


class MaskSecretsFilter(logging.Filter):
    """Rewrites the rendered message, so a secret passed as an argument is masked too."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class DowngradeToWarningFilter(logging.Filter):
    """Lowers ERROR and above to WARNING, for loggers whose "errors" are the client's doing
    (django.security.DisallowedHost: a scanner's Host header must not page anyone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            payload["request_id"] = request_id
        if record.exc_info:
            payload["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


# Set by the request middleware (platform_app.ops.middleware) for each request; here, in the
# bottom layer, because the logging config loads its filter before any app is ready.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True
