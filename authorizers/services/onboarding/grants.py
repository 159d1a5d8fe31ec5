"""Storing what WeChat granted: api_query_auth's answer, or api_get_authorizer_info's after a
lost exchange, placed under the right merchant (ownership.py) in one locked transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from authorizers import signals
from authorizers.models import Authorizer, Merchant
from authorizers.services.tokens.state import (
    token_state_lock,
    token_state_set_owner,
    token_state_store_grant,
)
from component.client import ComponentClient
from wechat.errors import WeChatBadResponse

from .ownership import (
    Placement,
    authorizer_owner_place,
    ownership_conflict_record,
    ownership_conflicts_close_stale,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrantResult:
    authorizer: Authorizer
    placement: Placement

    @property
    def refused(self) -> bool:
        """The appid is active under another merchant: ownership unchanged."""
        return self.placement == Placement.CONFLICT


def authorizer_grant_store(
    *,
    merchant: Merchant | None,
    authorization_info: dict[str, Any],
    authorized_at: datetime | None = None,
) -> GrantResult:
    """Create or update the account from an authorization_info, atomically.

    `merchant`: whose invite the authorization came through (None: not known). On a conflict
    the fresh credentials are still stored on the owner's row: WeChat has just replaced the
    refresh token, and losing it would force the owner to re-authorize.
    """
    appid = str(authorization_info.get("authorizer_appid") or "")
    if not appid or not authorization_info.get("authorizer_refresh_token"):
        raise WeChatBadResponse("authorization_info lacks the appid or refresh token")
    when = authorized_at or timezone.now()
    try:
        result = _store(merchant, appid, authorization_info, when)
    except IntegrityError:  # the other path created the row a moment ago: update it
        result = _store(merchant, appid, authorization_info, when)
    if result.refused and merchant is not None:
        ownership_conflict_record(authorizer=result.authorizer, claimant=merchant)
    return result


def _store(
    merchant: Merchant | None, appid: str, info: dict[str, Any], when: datetime
) -> GrantResult:
    with transaction.atomic():
        row = token_state_lock(appid=appid)
        row, placement = authorizer_owner_place(row, appid=appid, merchant=merchant)
        if token_state_store_grant(row, authorization_info=info, authorized_at=when):
            signals.authorizer_granted.send(sender=Authorizer, authorizer_id=row.pk)
        elif placement != Placement.CONFLICT:  # an outdated grant decides nothing
            row.refresh_from_db(fields=["merchant"])
            placement = Placement.KEPT
        ownership_conflicts_close_stale(authorizer=row)
    return GrantResult(row, placement)


def authorizer_claim(*, appid: str, merchant: Merchant) -> GrantResult:
    """The push stored the grant; the callback, proven to be its invite's, places the account."""
    with transaction.atomic():
        row = token_state_lock(appid=appid)
        row, placement = authorizer_owner_place(row, appid=appid, merchant=merchant)
        if placement in (Placement.CLAIMED, Placement.MOVED):
            token_state_set_owner(row, merchant_id=row.merchant_id)
            ownership_conflicts_close_stale(authorizer=row)
    if placement == Placement.CONFLICT:
        ownership_conflict_record(authorizer=row, claimant=merchant)
    return GrantResult(row, placement)


def authorizer_grant_recover(
    *, appid: str, merchant: Merchant | None, authorized_at: datetime | None = None
) -> GrantResult | None:
    """The code was exchanged but its answer is lost (a timeout, or another path's 61009):
    api_get_authorizer_info returns the grant's refresh token once the code was exchanged.

    None when WeChat says the code was never exchanged (no refresh token yet).
    """
    payload = ComponentClient().get_authorizer_info(appid)
    grant = payload.get("authorization_info") or {}
    refresh_token = str(grant.get("authorizer_refresh_token") or "")
    if not refresh_token:
        return None
    info = {
        "authorizer_appid": appid,
        "authorizer_refresh_token": refresh_token,
        "func_info": grant.get("func_info") or [],
    }
    logger.info("authorizer %s: grant recovered through api_get_authorizer_info", appid)
    return authorizer_grant_store(
        merchant=merchant, authorization_info=info, authorized_at=authorized_at
    )


def _type_id(value: object) -> int | None:
    raw = value.get("id") if isinstance(value, dict) else None
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def authorizer_profile_apply(*, authorizer: Authorizer, payload: dict[str, Any]) -> list[str]:
    """api_get_authorizer_info's authorizer_info onto the instance; the fields to save."""
    info = payload.get("authorizer_info") or {}
    authorizer.nickname = str(info.get("nick_name") or "")[:200]
    authorizer.principal_name = str(info.get("principal_name") or "")[:200]
    authorizer.user_name = str(info.get("user_name") or "")[:64]
    authorizer.alias = str(info.get("alias") or "")[:64]
    head_img = str(info.get("head_img") or "")
    authorizer.head_img = head_img if head_img.startswith(("http://", "https://")) else ""
    authorizer.head_img = authorizer.head_img[:500]
    authorizer.service_type = _type_id(info.get("service_type_info"))
    authorizer.verify_type = _type_id(info.get("verify_type_info"))
    authorizer.info_synced_at = timezone.now()
    return [
        "nickname",
        "principal_name",
        "user_name",
        "alias",
        "head_img",
        "service_type",
        "verify_type",
        "info_synced_at",
        "updated_at",
    ]
