"""The component_verify_ticket and the component_access_token.

The ticket is kept durably (WeChat pushes one every 10 minutes, each valid 12 hours, so a
missed push is not an outage). The token is cached, and fetched single-flight: the fetch
happens under a row lock on the ComponentState row, so when many callers across processes
find it expired, one fetches and the rest wait and read its result.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.fields import FieldDecryptionError, decrypt_value, encrypt_value
from wechat.errors import WeChatError, WeChatTicketInvalid
from wechat.transport import get_transport

from ..models import ComponentState

logger = logging.getLogger(__name__)

API_COMPONENT_TOKEN = "/cgi-bin/component/api_component_token"
API_START_PUSH_TICKET = "/cgi-bin/component/api_start_push_ticket"
# Without a ticket WeChat accepts, nothing works until the next push (every 10 minutes), so
# the product asks for one at once; once a minute across all processes is enough, and keeps
# a misconfigured receiver from turning every request into a call to WeChat.
TICKET_PUSH_REQUEST_INTERVAL = 60
# WeChat's lifetime of a component_verify_ticket: the one definition in the product (the
# component admin and the operators' dashboard judge a ticket by it too; the sandbox, a
# separate world, keeps its own).
TICKET_LIFETIME = timedelta(hours=12)
# Fetch a new token when less than this is left: callers never hold one that dies mid-call.
TOKEN_SAFETY_MARGIN = timedelta(minutes=5)
# Beat refreshes ahead of the safety margin, so requests never wait for a fetch.
TOKEN_REFRESH_AHEAD = timedelta(minutes=20)


def _cache_key() -> str:
    # A token means something only to the origin that issued it (WeChat or a sandbox).
    origin = hashlib.sha256(settings.WECHAT_API_BASE.encode()).hexdigest()[:12]
    return f"component:{settings.WECHAT_COMPONENT_APPID}:{origin}:access_token"


class ComponentTicketMissing(Exception):
    """No usable component_verify_ticket yet: WeChat has not pushed one (or it expired)."""


def _state_for_update() -> ComponentState:
    appid = settings.WECHAT_COMPONENT_APPID
    ComponentState.objects.get_or_create(component_appid=appid)
    return ComponentState.objects.select_for_update().get(component_appid=appid)


def component_state_get() -> ComponentState:
    state, _ = ComponentState.objects.get_or_create(component_appid=settings.WECHAT_COMPONENT_APPID)
    return state


def component_ticket_store(*, ticket: str, received_at: datetime) -> bool:
    """Keep the newest ticket; an older push delivered late must not replace it."""
    with transaction.atomic():
        state = _state_for_update()
        if state.ticket_received_at and state.ticket_received_at > received_at:
            return False
        state.verify_ticket = ticket
        state.ticket_received_at = received_at
        state.save(update_fields=["verify_ticket", "ticket_received_at", "updated_at"])
    return True


def component_ticket_expired(*, received_at: datetime, now: datetime | None = None) -> bool:
    """Whether a ticket received at `received_at` is past TICKET_LIFETIME."""
    return received_at + TICKET_LIFETIME < (now or timezone.now())


def _usable(token: str, expires_at: datetime | None, margin: timedelta) -> bool:
    return bool(token) and expires_at is not None and expires_at - margin > timezone.now()


def component_access_token_get() -> str:
    """Cache, then the database without a lock, then the single-flight fetch."""
    return component_access_token_current()[0]


def component_access_token_current() -> tuple[str, datetime]:
    """component_access_token_get() with the token's expiry (for lending it out)."""
    cached = _cached_token()
    if cached and _usable(cached[0], cached[1], TOKEN_SAFETY_MARGIN):
        return cached
    state = component_state_get()
    if _usable(state.access_token, state.access_token_expires_at, TOKEN_SAFETY_MARGIN):
        _cache_token(state.access_token, state.access_token_expires_at)
        return state.access_token, state.access_token_expires_at
    return _fetch_single_flight(stale_token=None, margin=TOKEN_SAFETY_MARGIN)


def component_access_token_refresh(*, stale_token: str | None = None) -> str:
    """Replace a token WeChat called dead; if another caller already did, use theirs."""
    return component_access_token_replace(stale_token=stale_token)[0]


def component_access_token_replace(*, stale_token: str | None) -> tuple[str, datetime]:
    """component_access_token_refresh() with the token's expiry."""
    return _fetch_single_flight(stale_token=stale_token, margin=TOKEN_SAFETY_MARGIN, force=True)


def component_access_token_refresh_if_expiring() -> bool:
    """Beat's job: fetch a new token well before expiry. Returns whether it fetched."""
    state = component_state_get()
    if _usable(state.access_token, state.access_token_expires_at, TOKEN_REFRESH_AHEAD):
        return False
    _fetch_single_flight(stale_token=None, margin=TOKEN_REFRESH_AHEAD)
    return True


def component_ticket_push_request() -> bool:
    """Ask WeChat to push a ticket now (api_start_push_ticket), at most once a minute.

    Returns whether WeChat was asked and agreed. The ticket itself arrives as a push.
    """
    if not _push_request_claim():
        return False
    try:
        # One attempt: this runs inside a caller's failing request, and the next caller a
        # minute later is the retry.
        get_transport().request(
            "POST",
            API_START_PUSH_TICKET,
            body={
                "component_appid": settings.WECHAT_COMPONENT_APPID,
                "component_secret": settings.WECHAT_COMPONENT_APPSECRET,
            },
            max_attempts=1,
        )
    except WeChatError as exc:
        logger.warning("api_start_push_ticket failed: %s", exc)
        return False
    logger.info("asked WeChat to push a component_verify_ticket now")
    return True


def _push_request_claim() -> bool:
    """Whether this caller is the one to ask WeChat now: at most one a minute across every
    process, held by the database (a per-process memory cache cannot). One conditional
    UPDATE decides, atomic on PostgreSQL and SQLite; the read before it keeps a flood of
    failing requests within the minute from writing at all."""
    now = timezone.now()
    since = now - timedelta(seconds=TICKET_PUSH_REQUEST_INTERVAL)
    state = component_state_get()
    if state.ticket_push_requested_at is not None and state.ticket_push_requested_at > since:
        return False
    due = Q(ticket_push_requested_at__isnull=True) | Q(ticket_push_requested_at__lte=since)
    return bool(
        ComponentState.objects.filter(due, pk=state.pk).update(ticket_push_requested_at=now)
    )


def _fetch_single_flight(
    *, stale_token: str | None, margin: timedelta, force: bool = False
) -> tuple[str, datetime]:
    try:
        return _fetch_under_lock(stale_token=stale_token, margin=margin, force=force)
    except ComponentTicketMissing:
        # Outside the row lock: the push WeChat sends stores its ticket under that lock.
        component_ticket_push_request()
        raise


def _fetch_under_lock(
    *, stale_token: str | None, margin: timedelta, force: bool
) -> tuple[str, datetime]:
    with transaction.atomic():
        state = _state_for_update()
        current_ok = _usable(state.access_token, state.access_token_expires_at, margin)
        if current_ok and (not force or state.access_token != stale_token):
            _cache_token(state.access_token, state.access_token_expires_at)
            return state.access_token, state.access_token_expires_at
        token, expires_at = _fetch(state)
        state.access_token = token
        state.access_token_expires_at = expires_at
        state.access_token_fetched_at = timezone.now()
        state.save(
            update_fields=[
                "access_token",
                "access_token_expires_at",
                "access_token_fetched_at",
                "updated_at",
            ]
        )
    _cache_token(token, expires_at)
    return token, expires_at


def _fetch(state: ComponentState) -> tuple[str, datetime]:
    if not state.verify_ticket or (
        state.ticket_received_at and component_ticket_expired(received_at=state.ticket_received_at)
    ):
        raise ComponentTicketMissing(
            "No valid component_verify_ticket has been received yet (WeChat is asked to push "
            "one, at most once a minute): check that WeChat can reach the authorization event URL "
            "(/wechat/component/events/)."
        )
    started = timezone.now()
    try:
        payload = get_transport().post(
            API_COMPONENT_TOKEN,
            body={
                "component_appid": settings.WECHAT_COMPONENT_APPID,
                "component_appsecret": settings.WECHAT_COMPONENT_APPSECRET,
                "component_verify_ticket": state.verify_ticket,
            },
        )
    except WeChatTicketInvalid as exc:
        # For every caller this is the same situation as no ticket (and the same remedy).
        raise ComponentTicketMissing(
            f"WeChat rejected the stored component_verify_ticket (errcode {exc.errcode}, "
            f"rid {exc.rid}); WeChat is asked to push a new one (at most once a minute)."
        ) from None
    expires_at = started + timedelta(seconds=int(payload.get("expires_in", 7200)))
    logger.info("component_access_token fetched, expires at %s", expires_at.isoformat())
    return str(payload["component_access_token"]), expires_at


def _cache_token(token: str, expires_at: datetime | None) -> None:
    if not expires_at:
        return
    ttl = int((expires_at - timezone.now()).total_seconds())
    if ttl > 0:
        # Encrypted: Redis is a store like any other, and it never holds a token in clear.
        cache.set(_cache_key(), (encrypt_value(token), expires_at), ttl)


def _cached_token() -> tuple[str, datetime] | None:
    cached = cache.get(_cache_key())
    if not cached:
        return None
    try:
        return decrypt_value(cached[0]), cached[1]
    except (FieldDecryptionError, TypeError, IndexError, AttributeError):
        return None


def component_access_token_cache_clear() -> None:
    cache.delete(_cache_key())
