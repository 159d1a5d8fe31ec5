"""What a route receives and returns, independent of the HTTP plumbing."""

import json
from dataclasses import dataclass, field

from .errors import WeChatError


@dataclass
class Response:
    """A non-JSON or non-200 answer (the login page, control-endpoint errors)."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


# A route returns a JSON object (sent as 200) or a Response.
Reply = dict[str, object] | Response


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    _parsed: dict[str, object] | int | None = field(default=None, init=False, repr=False)

    def json_body(self) -> dict[str, object]:
        """The JSON object in the body, or WeChat's answer for an empty or malformed one."""
        if self._parsed is None:
            self._parsed = _parse_json_object(self.body)
        if isinstance(self._parsed, int):
            raise WeChatError(self._parsed)
        return self._parsed

    def peek_json(self) -> dict[str, object]:
        """Best-effort body for attributing a call to an authorizer; never raises."""
        try:
            return self.json_body()
        except WeChatError:
            return {}

    def access_token(self, *names: str) -> str:
        for name in names or ("access_token",):
            if self.query.get(name):
                return self.query[name]
        raise WeChatError(41001)


def _parse_json_object(body: bytes) -> dict[str, object] | int:
    """The object, or the errcode for the body (parsed once: attribution peeks at it too)."""
    if not body.strip():
        return 44002
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return 47001
    return data if isinstance(data, dict) else 47001


def require_str(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise WeChatError(47001)
    return value


def optional_int(body: dict[str, object], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WeChatError(47001)
    return value
