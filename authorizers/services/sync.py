"""Bring our records in line with what WeChat knows: one account's info, or every account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

from platform_app.component.client import ComponentClient
from platform_app.wechat.errors import WeChatAuthorizationRevoked, WeChatError

from ..models import Authorizer
from .authorization import merchant_unassigned_get
from .events import authorizer_revoke
from .grants import authorizer_info_apply

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 500  # api_get_authorizer_list's maximum


def authorizer_sync_info(*, authorizer_id: int) -> Authorizer:
    """api_get_authorizer_info → profile, account type, permission sets (and refresh token)."""
    authorizer = Authorizer.objects.get(pk=authorizer_id)
    if authorizer.status == Authorizer.Status.REVOKED:
        return authorizer
    try:
        payload = ComponentClient().get_authorizer_info(authorizer.appid)
    except WeChatAuthorizationRevoked:
        logger.warning(
            "authorizer %s: WeChat says the authorization is cancelled", authorizer.appid
        )
        return authorizer_revoke(appid=authorizer.appid) or authorizer
    with transaction.atomic():
        authorizer = Authorizer.objects.select_for_update().get(pk=authorizer_id)
        authorizer_info_apply(authorizer=authorizer, payload=payload)
        authorizer.save()
    return authorizer


@dataclass
class ImportSummary:
    total: int = 0  # what WeChat reported
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    without_refresh_token: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)  # created under "Unassigned"
    info_failed: list[str] = field(default_factory=list)


def authorizers_import_all(
    *, sync_info: bool = True, on_progress: Callable[[int, int], None] | None = None
) -> ImportSummary:
    """Page through api_get_authorizer_list and create/update every account with a refresh token.

    An entry without a refresh token was never exchanged: only the merchant re-authorizing
    (or an api_query_auth with a fresh code) can fix it, so it is reported, not stored.
    """
    client, summary, offset = ComponentClient(), ImportSummary(), 0
    while True:
        page = client.get_authorizer_list(offset=offset, count=LIST_PAGE_SIZE)
        summary.total = int(page.get("total_count") or 0)
        entries = page.get("list") or []
        for appid in _import_page(entries, summary):
            if sync_info:
                _sync_quietly(appid, summary)
            summary.seen += 1
            if on_progress:
                on_progress(summary.seen, summary.total)
        offset += len(entries)
        if not entries or offset >= summary.total:
            return summary


def _import_page(entries: list[dict], summary: ImportSummary) -> list[str]:
    """Store one page in one transaction; returns the page's appids in order."""
    listed: dict[str, tuple[str, datetime | None]] = {}
    appids = []
    for entry in entries:
        appid, refresh_token = (
            str(entry.get("authorizer_appid") or ""),
            str(entry.get("refresh_token") or ""),
        )
        auth_time = entry.get("auth_time")
        appids.append(appid)
        if not refresh_token:
            summary.without_refresh_token.append(appid)
        elif appid:
            when = datetime.fromtimestamp(auth_time, tz=UTC) if isinstance(auth_time, int) else None
            listed[appid] = (refresh_token, when)
    with transaction.atomic():
        known = (
            Authorizer.objects.select_for_update()
            .filter(appid__in=listed)
            .in_bulk(field_name="appid")
        )
        for appid, authorizer in known.items():
            refresh_token, authorized_at = listed[appid]
            if authorizer.refresh_token == refresh_token:
                summary.unchanged += 1
                continue
            # A new refresh token means a re-authorization we missed: the account is active.
            authorizer.refresh_token = refresh_token
            authorizer.status = Authorizer.Status.ACTIVE
            authorizer.revoked_at = None
            authorizer.authorized_at = authorized_at or authorizer.authorized_at
            authorizer.save()
            summary.updated += 1
        new = [appid for appid in listed if appid not in known]
        if new:
            home = merchant_unassigned_get()
            Authorizer.objects.bulk_create(
                [
                    Authorizer(
                        appid=appid,
                        merchant=home,
                        refresh_token=listed[appid][0],
                        authorized_at=listed[appid][1],
                    )
                    for appid in new
                ],
                ignore_conflicts=True,  # onboarded a moment ago: that row is fresher than ours
            )
            summary.created += len(new)
            summary.unassigned.extend(new)
    return [appid for appid in appids if appid in listed]


def _sync_quietly(appid: str, summary: ImportSummary) -> None:
    authorizer_id = Authorizer.objects.filter(appid=appid).values_list("pk", flat=True).first()
    try:
        authorizer_sync_info(authorizer_id=authorizer_id)
    except WeChatError as exc:
        logger.warning("info sync for %s failed: %s", appid, exc)
        summary.info_failed.append(appid)
