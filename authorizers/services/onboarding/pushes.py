"""The `authorized`/`updateauthorized` push's code exchange (run by a Celery task a little
after the push, see authorizers/receivers.py): the push knows the merchant only through its
PreAuthCode, which /start/ recorded."""

from __future__ import annotations

import logging

from django.utils import timezone

from authorizers.models import Authorizer
from authorizers.services.tokens.state import token_state_grant_is_older
from component.client import ComponentClient
from component.models import ComponentEvent
from component.services.events import (
    component_event_authorization_code_consumed,
    component_event_authorization_code_get,
)
from wechat.errors import WeChatAuthCodeInvalid, WeChatTransportError

from .grants import authorizer_grant_recover, authorizer_grant_store
from .ownership import authorization_attempt_merchant

logger = logging.getLogger(__name__)


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
