"""Bring our records in line with what WeChat knows: one account's info, or every account."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import transaction

from authorizers.services.onboarding.grants import authorizer_profile_apply
from authorizers.services.onboarding.ownership import ownership_conflicts_close_stale
from authorizers.services.tokens.state import (
    token_state_lock,
    token_state_new_listed,
    token_state_store_info_grant,
    token_state_version,
)
from component.client import ComponentClient
from wechat.errors import WeChatAuthorizationRevoked, WeChatError

from ..models import Authorizer
from .status import authorizer_mark_revoked

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 500  # api_get_authorizer_list's maximum


def authorizer_sync_info(*, authorizer_id: int, reactivate: bool = False) -> Authorizer:
    """api_get_authorizer_info → profile, account type, permission sets (and refresh token).

    The call runs without the row lock (it may be slow, and refreshes must not wait for it);
    its grant and refresh token are stored only if the row did not change meanwhile. The
    profile is stored either way: nothing else writes it.
    `reactivate`: an import saw a newer authorization of a stopped account (see token_state).
    """
    authorizer = Authorizer.objects.get(pk=authorizer_id)
    if authorizer.status == Authorizer.Status.REVOKED and not reactivate:
        return authorizer
    seen_version = token_state_version(authorizer_id=authorizer_id)
    try:
        payload = ComponentClient().get_authorizer_info(authorizer.appid)
    except WeChatAuthorizationRevoked:
        logger.warning(
            "authorizer %s: WeChat says the authorization is cancelled", authorizer.appid
        )
        authorizer_mark_revoked(authorizer_id=authorizer_id)
        return Authorizer.objects.get(pk=authorizer_id)
    with transaction.atomic():
        authorizer = token_state_lock(authorizer_id=authorizer_id)
        kind = (authorizer.service_type, authorizer.verify_type)
        synced_before = authorizer.info_synced_at is not None
        authorizer.save(
            update_fields=authorizer_profile_apply(authorizer=authorizer, payload=payload)
        )
        token_state_store_info_grant(
            authorizer,
            grant=payload.get("authorization_info") or {},
            seen_version=seen_version,
            reactivate=reactivate,
            # The first sync learns the type; only a later change is news to the merchant.
            profile_changed=synced_before
            and kind != (authorizer.service_type, authorizer.verify_type),
        )
        if reactivate:  # reactivated under the holding merchant
            ownership_conflicts_close_stale(authorizer=authorizer)
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
        for appid, reactivate in _import_page(entries, summary).items():
            if sync_info or reactivate is not None:
                _sync_quietly(appid, summary, reactivate=bool(reactivate))
            summary.seen += 1
            if on_progress:
                on_progress(summary.seen, summary.total)
        offset += len(entries)
        if not entries or offset >= summary.total:
            return summary


def _import_page(entries: list[dict], summary: ImportSummary) -> dict[str, bool | None]:
    """Create the page's new accounts. Returns appid -> None (new or unchanged), False (its
    refresh token differs: sync it), True (also a newer authorization of a stopped account).

    A known account whose listed refresh token differs is not written from the list: the
    list was requested before some other write may have landed, so the info sync (which
    captures the row's version before its own call) decides, under token_state's rule.
    """
    listed: dict[str, tuple[str, datetime | None]] = {}
    order = []
    for entry in entries:
        appid, refresh_token = (
            str(entry.get("authorizer_appid") or ""),
            str(entry.get("refresh_token") or ""),
        )
        auth_time = entry.get("auth_time")
        order.append(appid)
        if not refresh_token:
            summary.without_refresh_token.append(appid)
        elif appid:
            when = datetime.fromtimestamp(auth_time, tz=UTC) if isinstance(auth_time, int) else None
            listed[appid] = (refresh_token, when)
    known = Authorizer.objects.filter(appid__in=listed).in_bulk(field_name="appid")
    reactivate: dict[str, bool | None] = {}
    for appid, authorizer in known.items():
        refresh_token, authorized_at = listed[appid]
        if authorizer.refresh_token == refresh_token:
            summary.unchanged += 1
            continue
        stopped_at = authorizer.revoked_at or authorizer.authorized_at
        newer = authorized_at is not None and (stopped_at is None or authorized_at > stopped_at)
        reactivate[appid] = not authorizer.is_active and newer
        summary.updated += 1
    new = [appid for appid in listed if appid not in known]
    if new:
        with transaction.atomic():
            Authorizer.objects.bulk_create(
                [
                    token_state_new_listed(
                        appid=appid, refresh_token=listed[appid][0], authorized_at=listed[appid][1]
                    )
                    for appid in new
                ],
                ignore_conflicts=True,  # onboarded a moment ago: that row is fresher than ours
            )
        summary.created += len(new)
        summary.unassigned.extend(new)
    return {appid: reactivate.get(appid) for appid in order if appid in listed}


def _sync_quietly(appid: str, summary: ImportSummary, *, reactivate: bool) -> None:
    authorizer_id = Authorizer.objects.filter(appid=appid).values_list("pk", flat=True).first()
    try:
        authorizer_sync_info(authorizer_id=authorizer_id, reactivate=reactivate)
    except WeChatError as exc:
        logger.warning("info sync for %s failed: %s", appid, exc)
        summary.info_failed.append(appid)
