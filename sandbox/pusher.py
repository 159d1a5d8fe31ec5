"""Encrypted pushes to the authorization-event receive URL (protocol §5), logged for tests."""

import logging
import threading
import time
from collections import deque
from itertools import count

import requests

from wechat.crypto import MessageCrypto

from .state import Consent, World

logger = logging.getLogger(__name__)

INFO_TYPES = ("component_verify_ticket", "authorized", "updateauthorized", "unauthorized")
# WeChat gives the receiver 5 seconds to answer.
PUSH_TIMEOUT = 5.0
LOG_SIZE = 500


def _cdata(name: str, value: str) -> str:
    return f"<{name}><![CDATA[{value}]]></{name}>"


def event_xml(appid: str, info_type: str, create_time: int, fields: dict[str, str | int]) -> str:
    lines = [_cdata("AppId", appid), f"<CreateTime>{create_time}</CreateTime>"]
    lines.append(_cdata("InfoType", info_type))
    for name, value in fields.items():
        lines.append(f"<{name}>{value}</{name}>" if isinstance(value, int) else _cdata(name, value))
    return "<xml>" + "\n".join(lines) + "\n</xml>"


class Pusher:
    def __init__(self, world: World, callback_url: str | None) -> None:
        self.world = world
        self.callback_url = callback_url
        self.crypto = MessageCrypto(
            world.component_token, world.encoding_aes_key, world.component_appid
        )
        self.log: deque[dict[str, object]] = deque(maxlen=LOG_SIZE)
        self._ids = count(1)
        self._log_lock = threading.Lock()  # a deque cannot be copied while another thread appends
        self._stopping = threading.Event()

    def push(
        self,
        info_type: str,
        authorizer_appid: str | None = None,
        *,
        consent: Consent | None = None,
        func_info: list[int] | None = None,
    ) -> dict[str, object]:
        """Make the event happen in the world, then deliver it; returns the log record."""
        world = self.world
        now = int(world.now())
        fields: dict[str, str | int] = {}
        if info_type == "component_verify_ticket":
            fields["ComponentVerifyTicket"] = world.issue_ticket()
        elif info_type in ("authorized", "updateauthorized"):
            if consent is None:
                if authorizer_appid not in world.authorizers:
                    raise KeyError(authorizer_appid)
                consent = world.consent(authorizer_appid, func_info=func_info)
            authorizer_appid = consent.authorizer_appid
            fields |= {
                "AuthorizerAppid": consent.authorizer_appid,
                "AuthorizationCode": consent.auth_code,
                # Absolute unix time, as the libraries read it.
                "AuthorizationCodeExpiredTime": now + consent.expires_in,
                "PreAuthCode": consent.pre_auth_code,
            }
        elif info_type == "unauthorized":
            world.revoke(authorizer_appid or "")
            fields["AuthorizerAppid"] = authorizer_appid or ""
        else:
            raise ValueError(f"info_type must be one of {INFO_TYPES}")
        plaintext = event_xml(world.component_appid, info_type, now, fields)
        return self._deliver(info_type, authorizer_appid, plaintext)

    def in_background(self, info_type: str, **kwargs: object) -> None:
        """Push without delaying the caller (the login redirect, api_start_push_ticket)."""
        threading.Thread(
            target=self._safe_push, args=(info_type,), kwargs=kwargs, daemon=True
        ).start()

    def _safe_push(self, info_type: str, **kwargs: object) -> None:
        try:
            self.push(info_type, **kwargs)  # type: ignore[arg-type]
        except Exception:
            logger.exception("sandbox push %s failed", info_type)

    def _deliver(self, info_type: str, appid: str | None, plaintext: str) -> dict[str, object]:
        record: dict[str, object] = {
            "id": next(self._ids),
            "info_type": info_type,
            "authorizer_appid": appid,
            "url": self.callback_url,
            "at": time.time(),
            "plaintext": plaintext,
            "status": None,
            "body": None,
            "error": None,
        }
        if not self.callback_url:
            record["error"] = "no callback URL configured"
        else:
            params, body = self.crypto.encrypt_push(plaintext)
            record["query"] = params
            try:
                resp = requests.post(
                    self.callback_url,
                    params=params,
                    data=body,
                    headers={"Content-Type": "text/xml"},
                    timeout=PUSH_TIMEOUT,
                )
                record["status"], record["body"] = resp.status_code, resp.text[:2000]
            except requests.RequestException as exc:
                # A failing receiver is the receiver's problem; WeChat carries on.
                record["error"] = f"{type(exc).__name__}: {exc}"
        with self._log_lock:
            self.log.append(record)
        return record

    # -- the periodic ticket -------------------------------------------------------------------
    def start_ticket_timer(self) -> None:
        """Push a ticket now, then every settings.ticket_interval seconds, until stop()."""
        threading.Thread(target=self._ticket_loop, daemon=True, name="sandbox-ticket").start()

    def _ticket_loop(self) -> None:
        self._safe_push("component_verify_ticket")
        while not self._stopping.wait(max(self.world.settings.ticket_interval, 0.05)):
            self._safe_push("component_verify_ticket")

    def stop(self) -> None:
        self._stopping.set()

    def records(self) -> list[dict[str, object]]:
        with self._log_lock:
            return list(self.log)

    def clear(self) -> None:
        with self._log_lock:
            self.log.clear()
