"""How WeChat's answers map onto an Authorizer row (no I/O, no saving: callers lock and save)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from ..models import Authorizer
from ..permission_sets import permission_sets_from_func_info

DEFAULT_TOKEN_LIFETIME = 7200


def authorizer_grant_apply(*, authorizer: Authorizer, authorization_info: dict[str, Any]) -> None:
    """api_query_auth's authorization_info: a (re-)authorization, so the account is active."""
    now = timezone.now()
    authorizer.refresh_token = str(authorization_info["authorizer_refresh_token"])
    access_token = str(authorization_info.get("authorizer_access_token") or "")
    if access_token:
        lifetime = int(authorization_info.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        authorizer.access_token = access_token
        authorizer.access_token_expires_at = now + timedelta(seconds=lifetime)
        authorizer.token_version += 1
        authorizer.last_refreshed_at = now
    else:  # no API permission: nothing to call with, and the old token died with the grant
        authorizer.access_token = ""
        authorizer.access_token_expires_at = None
    authorizer.permission_sets = permission_sets_from_func_info(authorization_info.get("func_info"))
    authorizer.status = Authorizer.Status.ACTIVE
    authorizer.authorized_at = now
    authorizer.revoked_at = None
    authorizer.last_refresh_error = ""


def _type_id(value: object) -> int | None:
    raw = value.get("id") if isinstance(value, dict) else None
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


def authorizer_info_apply(*, authorizer: Authorizer, payload: dict[str, Any]) -> None:
    """api_get_authorizer_info's answer: profile, account type, grant, refresh token."""
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
    grant = payload.get("authorization_info") or {}
    if "func_info" in grant:
        authorizer.permission_sets = permission_sets_from_func_info(grant["func_info"])
    refresh_token = str(grant.get("authorizer_refresh_token") or "")
    if refresh_token and refresh_token != authorizer.refresh_token:
        authorizer.refresh_token = refresh_token
    authorizer.info_synced_at = timezone.now()
