"""What the authorization-event pushes do to our accounts (connected in AuthorizersConfig.ready).

`unauthorized` is applied in the receiving request: it is one UPDATE, and every call and
refresh for the account must stop at once. `authorized`/`updateauthorized` need
api_query_auth, so they go to Celery, a little later: the merchant's browser usually reaches
our callback at the same moment with the same single-use code, and the callback knows the
merchant while the push does not.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from platform_app.component.client import ComponentClient
from platform_app.component.models import ComponentEvent
from platform_app.component.services.events import (
    component_event_authorization_code_consumed,
    component_event_authorization_code_get,
)
from platform_app.wechat.errors import WeChatAuthCodeInvalid

from ..models import Authorizer
from .status import authorizer_stop_fields

logger = logging.getLogger(__name__)

# Head start for the browser callback before the push's own exchange (seconds).
AUTHORIZATION_EVENT_DELAY = 15


def authorizer_revoke(*, appid: str, revoked_at: datetime | None = None) -> Authorizer | None:
    """The merchant withdrew the authorization: stop using the account now."""
    with transaction.atomic():
        authorizer = Authorizer.objects.select_for_update().filter(appid=appid).first()
        if authorizer is None:
            logger.info("unauthorized for unknown appid %s: nothing to revoke", appid)
            return None
        authorizer_stop_fields(authorizer, Authorizer.Status.REVOKED, at=revoked_at)
        authorizer.save()
    logger.info("authorizer %s revoked", appid)
    return authorizer


def authorizer_apply_authorization_event(*, event_id: int) -> str:
    """Exchange the code an authorized/updateauthorized push carried, unless already done.

    Returns what happened: "exchanged", "already_exchanged" or "code_invalid".
    """
    from .authorization import authorizer_grant_store

    event = ComponentEvent.objects.get(pk=event_id)
    code = component_event_authorization_code_get(event_id=event_id)
    if not code:
        return "already_exchanged"
    try:
        payload = ComponentClient().query_auth(code)
    except WeChatAuthCodeInvalid as exc:
        component_event_authorization_code_consumed(authorization_code=code)
        # Single use: the callback most likely exchanged it first (and stored the account).
        if Authorizer.objects.filter(appid=event.authorizer_appid, status="active").exists():
            return "already_exchanged"
        logger.warning("event %s: code for %s refused (%s)", event_id, event.authorizer_appid, exc)
        return "code_invalid"
    component_event_authorization_code_consumed(authorization_code=code)
    authorizer_grant_store(
        merchant=None, authorization_info=payload.get("authorization_info") or {}
    )
    return "exchanged"


def on_authorized(sender: object, *, event_id: int, **kwargs: object) -> None:
    from ..tasks.sync import authorizer_apply_authorization_code_task

    transaction.on_commit(
        lambda: authorizer_apply_authorization_code_task.apply_async(
            args=[event_id], countdown=AUTHORIZATION_EVENT_DELAY
        )
    )


def on_unauthorized(
    sender: object, *, authorizer_appid: str, create_time: datetime | None = None, **kwargs: object
) -> None:
    now = timezone.now()
    authorizer_revoke(appid=authorizer_appid, revoked_at=min(create_time or now, now))
