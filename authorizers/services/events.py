"""What the authorization-event pushes do to our accounts (connected in AuthorizersConfig.ready).

`unauthorized` is applied in the receiving request: it is one UPDATE, and every call and
refresh for the account must stop at once; one older than the stored authorization is
recorded and not applied (events apply in WeChat's order). `authorized`/`updateauthorized`
need api_query_auth, so they go to Celery, a little later: the merchant's browser usually
reaches our callback at the same moment with the same single-use code, and the callback
knows the merchant while the push knows it only through its PreAuthCode.
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
from platform_app.wechat.errors import WeChatAuthCodeInvalid, WeChatTransportError

from ..models import Authorizer
from .grants import authorizer_grant_recover, authorizer_grant_store
from .ownership import authorization_attempt_merchant
from .status import authorizer_revoke
from .token_state import token_state_grant_is_older

logger = logging.getLogger(__name__)

# Head start for the browser callback before the push's own exchange (seconds).
AUTHORIZATION_EVENT_DELAY = 15

__all__ = ["authorizer_apply_authorization_event", "authorizer_revoke"]


def authorizer_apply_authorization_event(*, event_id: int) -> str:
    """Exchange the code an authorized/updateauthorized push carried, unless already done.

    Returns what happened: "exchanged", "recovered", "already_exchanged", "outdated" or
    "code_invalid".
    """
    event = ComponentEvent.objects.get(pk=event_id)
    code = component_event_authorization_code_get(event_id=event_id)
    if not code:
        return "already_exchanged"
    merchant = authorization_attempt_merchant(pre_auth_code_sha256=event.pre_auth_code_sha256)
    authorized_at = min(event.create_time or timezone.now(), timezone.now())
    row = Authorizer.objects.filter(appid=event.authorizer_appid).first()
    if row is not None and token_state_grant_is_older(row, authorized_at=authorized_at):
        component_event_authorization_code_consumed(authorization_code=code)
        return "outdated"  # a newer authorization (or stop) is stored already
    try:
        payload = ComponentClient().query_auth(code)
    except WeChatAuthCodeInvalid as exc:
        component_event_authorization_code_consumed(authorization_code=code)
        # Single use: the callback most likely exchanged it first (and stored the account).
        if Authorizer.objects.filter(appid=event.authorizer_appid, status="active").exists():
            return "already_exchanged"
        logger.warning("event %s: code refused (%s)", event_id, exc.errcode)
        return "code_invalid"
    except WeChatTransportError:
        # Perhaps exchanged, answer lost: WeChat's account info has the grant if so.
        recovered = authorizer_grant_recover(
            appid=event.authorizer_appid, merchant=merchant, authorized_at=authorized_at
        )
        if recovered is None:
            raise  # not exchanged: the code is still good, the task retries
        component_event_authorization_code_consumed(authorization_code=code)
        return "recovered"
    component_event_authorization_code_consumed(authorization_code=code)
    authorizer_grant_store(
        merchant=merchant,
        authorization_info=payload.get("authorization_info") or {},
        authorized_at=authorized_at,
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
) -> str:
    row = authorizer_revoke(appid=authorizer_appid, revoked_at=create_time)
    if row is not None and row.status != Authorizer.Status.REVOKED:
        return ComponentEvent.Status.IGNORED  # older than the authorization it would undo
    return ComponentEvent.Status.APPLIED
