"""Authorization-event pushes: verify, decrypt, record durably, then apply once.

The record comes first and commits on its own, so a push is never lost to a failure while
applying it; the dedup key is the SHA-256 of the decrypted XML, so WeChat's retries and
replays land on the same row. A failed application is recorded and retried by the next
replay of the same push; an applied one is acknowledged and never applied twice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.logs import mask_secrets
from wechat.crypto import MessageCrypto, MessageCryptoError, parse_xml_fields

from .. import signals
from ..models import ComponentEvent
from .token import component_ticket_store

logger = logging.getLogger(__name__)

INFO_TICKET = "component_verify_ticket"
_SECRET_FIELDS = ("ComponentVerifyTicket", "AuthorizationCode", "PreAuthCode")
_REQUIRED: dict[str, tuple[str, ...]] = {
    INFO_TICKET: ("ComponentVerifyTicket",),
    "authorized": ("AuthorizerAppid", "AuthorizationCode"),
    "updateauthorized": ("AuthorizerAppid", "AuthorizationCode"),
    "unauthorized": ("AuthorizerAppid",),
}
_MAX_FIELD_LEN = 512


class PushRejected(Exception):
    """The push is not a valid one for us. `forbidden`: bad signature (403); else 400."""

    def __init__(self, reason: str, *, forbidden: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden


@lru_cache(maxsize=4)
def _crypto(token: str, aes_key: str, appid: str) -> MessageCrypto:
    return MessageCrypto(token, aes_key, appid)


def code_sha256(code: str) -> str:
    """How a single-use code (authorization code, pre_auth_code) is stored for lookups."""
    return hashlib.sha256(code.encode()).hexdigest()


def component_push_receive(
    *, body: bytes, msg_signature: str, timestamp: str, nonce: str
) -> ComponentEvent:
    """The receiver's one service: raises PushRejected before touching any state."""
    crypto = _crypto(
        settings.WECHAT_COMPONENT_TOKEN,
        settings.WECHAT_COMPONENT_ENCODING_AES_KEY,
        settings.WECHAT_COMPONENT_APPID,
    )
    try:
        xml = crypto.decrypt_push(
            body=body, msg_signature=msg_signature, timestamp=timestamp, nonce=nonce
        )
        fields = parse_xml_fields(xml)
    except MessageCryptoError as exc:
        raise PushRejected(exc.reason, forbidden=exc.reason == "bad_signature") from None
    create_time = _validate(fields)
    event, _ = component_event_record(xml=xml, fields=fields, create_time=create_time)
    if event.status in (ComponentEvent.Status.RECEIVED, ComponentEvent.Status.FAILED):
        event.status = component_event_apply(event_id=event.pk, fields=fields)
    return event


def _validate(fields: dict[str, str]) -> datetime:
    if fields.get("AppId") != settings.WECHAT_COMPONENT_APPID:
        raise PushRejected("appid_mismatch")
    info_type = fields.get("InfoType", "")
    if not info_type or len(info_type) > 64:
        raise PushRejected("missing_info_type")
    for name in _REQUIRED.get(info_type, ()):
        if not fields.get(name, "").strip():
            raise PushRejected(f"missing_{name}")
    if any(len(value) > _MAX_FIELD_LEN for value in fields.values()):
        raise PushRejected("field_too_long")
    if len(fields.get("AuthorizerAppid", "")) > 64:
        raise PushRejected("bad_authorizer_appid")
    try:
        seconds = int(fields.get("CreateTime", ""))
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise PushRejected("bad_create_time") from None


def component_event_record(
    *, xml: str, fields: dict[str, str], create_time: datetime
) -> tuple[ComponentEvent, bool]:
    """Insert the event, or count a replay of it. Commits before anything is applied."""
    dedup_key = hashlib.sha256(xml.encode()).hexdigest()
    code = fields.get("AuthorizationCode", "")
    pre_auth = fields.get("PreAuthCode", "")
    with transaction.atomic():
        event, created = ComponentEvent.objects.get_or_create(
            dedup_key=dedup_key,
            defaults={
                "info_type": fields["InfoType"],
                "authorizer_appid": fields.get("AuthorizerAppid", ""),
                "create_time": create_time,
                "payload": {k: v for k, v in fields.items() if k not in _SECRET_FIELDS},
                "authorization_code": code,
                "authorization_code_sha256": code_sha256(code) if code else "",
                "pre_auth_code_sha256": code_sha256(pre_auth) if pre_auth else "",
            },
        )
        if not created:
            ComponentEvent.objects.filter(pk=event.pk).update(replays=F("replays") + 1)
            logger.info("component event %s (%s) replayed", event.pk, event.info_type)
    return event, created


def component_event_apply(*, event_id: int, fields: dict[str, str]) -> str:
    """Apply under a row lock so two concurrent deliveries cannot both apply it."""
    try:
        with transaction.atomic():
            event = ComponentEvent.objects.select_for_update().get(pk=event_id)
            if event.status in (ComponentEvent.Status.APPLIED, ComponentEvent.Status.IGNORED):
                return event.status
            event.status = _apply(event, fields)
            event.applied_at = timezone.now()
            event.error = ""
            event.save(update_fields=["status", "applied_at", "error"])
        return event.status
    except Exception as exc:
        logger.exception("component event %s failed to apply", event_id)
        ComponentEvent.objects.filter(pk=event_id).update(
            status=ComponentEvent.Status.FAILED,
            error=mask_secrets(f"{type(exc).__name__}: {exc}")[:500],
        )
        return ComponentEvent.Status.FAILED


def _apply(event: ComponentEvent, fields: dict[str, str]) -> str:
    if event.info_type == INFO_TICKET:
        # WeChat's CreateTime is when the ticket was issued; a clock ahead of ours must not
        # make a ticket look newer than the next one.
        received_at = min(event.create_time or timezone.now(), timezone.now())
        stored = component_ticket_store(
            ticket=fields["ComponentVerifyTicket"], received_at=received_at
        )
        return ComponentEvent.Status.APPLIED if stored else ComponentEvent.Status.IGNORED
    signal = signals.BY_INFO_TYPE.get(event.info_type)
    if signal is None:
        logger.info("component event %s: InfoType %s not handled", event.pk, event.info_type)
        return ComponentEvent.Status.IGNORED
    responses = signal.send(
        sender=ComponentEvent,
        event_id=event.pk,
        authorizer_appid=event.authorizer_appid,
        create_time=event.create_time,
    )
    if any(response == ComponentEvent.Status.IGNORED for _, response in responses):
        return ComponentEvent.Status.IGNORED  # recorded; it predates what it would change
    return ComponentEvent.Status.APPLIED


def component_event_authorization_code_get(*, event_id: int) -> str:
    """The event's authorization code, or "" once someone exchanged it."""
    event = ComponentEvent.objects.filter(pk=event_id).only("authorization_code").first()
    return event.authorization_code if event else ""


def component_event_authorization_code_consumed(*, authorization_code: str) -> int:
    """Forget a code once exchanged (by the callback or the event task), wherever it is stored."""
    return ComponentEvent.objects.filter(
        authorization_code_sha256=code_sha256(authorization_code)
    ).update(authorization_code="")


def component_event_for_code(*, authorization_code: str) -> ComponentEvent | None:
    """The authorized/updateauthorized push that carried this code (appid, PreAuthCode hash)."""
    return (
        ComponentEvent.objects.filter(authorization_code_sha256=code_sha256(authorization_code))
        .exclude(authorizer_appid="")
        .only("pk", "authorizer_appid", "pre_auth_code_sha256", "create_time")
        .first()
    )
