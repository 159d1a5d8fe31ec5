"""What WeChat says about an account's quota: readings (quota/get, cached and kept as
QuotaReading), resets (clear_quota/v2, 10 a month) and rid explanations (rid/get).

Every call made on an account's behalf spends that account's own daily quota; the local stop
after a 45009 is stops.py's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from authorizers.capabilities import capability_apis
from authorizers.models import AccountEvent, Authorizer, QuotaReading
from authorizers.services.events import account_event_record
from authorizers.services.quota.stops import quota_key
from authorizers.services.tokens.call import RequestToken, authorizer_call
from authorizers.services.tokens.errors import AuthorizerTokenRefreshError, AuthorizerUnavailable
from component.client import ComponentClient
from core.logs import mask_secrets
from wechat.errors import WeChatError, WeChatQuotaResetLimit
from wechat.openapi import API_QUOTA_GET, API_RID_GET, OpenApiClient
from wechat.quota import quota_month

logger = logging.getLogger(__name__)

QUOTA_RESETS_PER_MONTH = 10  # WeChat's limit for clear_quota, per account


@dataclass(frozen=True)
class ApiQuota:
    api: str
    daily_limit: int
    used: int
    remain: int
    checked_at: datetime


def authorizer_quota_list(*, authorizer: Authorizer) -> list[ApiQuota]:
    """quota/get for every API the account's capabilities use, cached QUOTA_CACHE_SECONDS."""
    token, client, found = RequestToken(authorizer), OpenApiClient(), []
    for api in capability_apis():
        cached = cache.get(quota_key(authorizer.appid, api))
        if cached is None:
            quota = authorizer_call(
                token,
                API_QUOTA_GET,
                lambda access_token, api=api: client.quota_get(
                    access_token=access_token, cgi_path=api
                ),
            )
            cached = {**quota, "checked_at": timezone.now().isoformat()}
            cache.set(quota_key(authorizer.appid, api), cached, settings.QUOTA_CACHE_SECONDS)
            _remember(authorizer, api, cached)
        found.append(
            ApiQuota(
                api=api,
                daily_limit=cached["daily_limit"],
                used=cached["used"],
                remain=cached["remain"],
                checked_at=datetime.fromisoformat(cached["checked_at"]),
            )
        )
    return found


def _remember(authorizer: Authorizer, api: str, quota: dict[str, Any]) -> None:
    QuotaReading.objects.update_or_create(
        authorizer_id=authorizer.pk,
        api=api,
        defaults={
            "daily_limit": quota["daily_limit"],
            "used": quota["used"],
            "remain": quota["remain"],
            "checked_at": datetime.fromisoformat(quota["checked_at"]),
        },
    )


def authorizer_quota_resets_used(authorizer: Authorizer) -> int:
    """How many of this month's 10 resets we spent (WeChat's 48006 counts as all of them)."""
    resets = authorizer.quota_resets or {}
    return int(resets.get("count", 0)) if resets.get("month") == quota_month() else 0


def authorizer_quota_clear(*, authorizer_id: int) -> int:
    """clear_quota/v2 with the component secret (works when the account's token is stuck);
    lifts every local stop and reads the quotas again. Returns the resets used this month;
    raises WeChat's 48006, and AuthorizerUnavailable for a stopped account (a reset spends
    one of 10 a month, and a revoked account has no calls to let through)."""
    authorizer = Authorizer.objects.get(pk=authorizer_id)
    if authorizer.status != Authorizer.Status.ACTIVE:
        raise AuthorizerUnavailable(authorizer.status, appid=authorizer.appid)
    try:
        ComponentClient().clear_quota(authorizer.appid)
    except WeChatQuotaResetLimit:
        _count_reset(authorizer_id, at_least=QUOTA_RESETS_PER_MONTH, lift=False)
        raise
    used = _count_reset(authorizer_id, at_least=0, lift=True)
    for api in capability_apis():
        cache.delete(quota_key(authorizer.appid, api))
    logger.info("authorizer %s: WeChat quota reset (%d this month)", authorizer.appid, used)
    # The stored readings are from before the reset: read them again, or drop them.
    try:
        authorizer_quota_list(authorizer=authorizer)
    except (WeChatError, AuthorizerUnavailable, AuthorizerTokenRefreshError) as exc:
        logger.info("authorizer %s: quota re-read after reset failed: %s", authorizer.appid, exc)
        QuotaReading.objects.filter(authorizer_id=authorizer_id).delete()
    return used


def _count_reset(authorizer_id: int, *, at_least: int, lift: bool) -> int:
    with transaction.atomic():
        row = Authorizer.objects.select_for_update().get(pk=authorizer_id)
        used = authorizer_quota_resets_used(row) + (1 if lift else 0)
        row.quota_resets = {"month": quota_month(), "count": max(used, at_least)}
        fields = ["quota_resets", "updated_at"]
        lifted = sorted(row.quota_stops or {}) if lift else []
        if lift:
            row.quota_stops = {}
            fields.append("quota_stops")
        row.save(update_fields=fields)
        if lifted:
            account_event_record(row, type=AccountEvent.Type.QUOTA_RESTORED, extra={"apis": lifted})
    return row.quota_resets["count"]


def authorizer_rid_explain(*, authorizer_id: int, rid: str) -> dict[str, Any]:
    """What WeChat recorded for one of this account's calls (rid/get), secrets masked.

    WeChat keeps rids 7 days and shows an account only its own (76001 otherwise).
    """
    authorizer = Authorizer.objects.get(pk=authorizer_id)
    client = OpenApiClient()
    request = authorizer_call(
        RequestToken(authorizer),
        API_RID_GET,
        lambda access_token: client.rid_get(access_token=access_token, rid=rid),
    )
    return {key: _masked(value) for key, value in request.items()}


def _masked(value: Any) -> Any:
    return mask_secrets(value) if isinstance(value, str) else value
