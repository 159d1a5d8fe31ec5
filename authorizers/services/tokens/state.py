"""The one writer of an authorizer's token state (SPEC section 9).

Token state is the access token, its expiry and token_version, the refresh token, the status
(with revoked_at / authorized_at) and the grant (permission_sets). Nothing else in the product
assigns those fields (tests/audit/test_token_state_owner.py reads the source to keep it so).

Every write here happens on a row the caller locked in its transaction (`token_state_lock`:
SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the
database's write lock) and bumps `state_version`. A WeChat answer to a call made while the row
held version N is stored only while the row still holds N (compare-and-set): an answer that
left WeChat before a newer one was stored would otherwise put back a refresh token WeChat has
already replaced, and the account would need re-authorizing. "Last writer wins" is the defect
this module exists to prevent.

Grants (api_query_auth) are ordered by when the authorization happened instead: each is the
newest truth about its own authorization, and an older one never replaces a newer one.

Every change a merchant hears about (SPEC 11) is recorded here too, in the same transaction:
connected, updated, revoked, reauthorization_required and removed (account_event_record).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from authorizers.models import AccountEvent, Authorizer, RefreshIntent
from authorizers.permission_sets import permission_sets_from_func_info
from authorizers.services.events import account_event_record, account_owner_changed
from authorizers.services.onboarding.holding import merchant_holding_get

logger = logging.getLogger("authorizers.tokens")

DEFAULT_TOKEN_LIFETIME = 7200
STOPPED = (Authorizer.Status.REVOKED, Authorizer.Status.REAUTH_REQUIRED)


@dataclass(frozen=True)
class RefreshAnswer:
    """api_authorizer_token's answer, and when the call was made (the expiry counts from it)."""

    payload: dict[str, Any]
    requested_at: datetime


@dataclass(frozen=True)
class AccessToken:
    token: str
    version: int
    expires_at: datetime
    # True when the token was taken from a newer row another writer stored, not issued by
    # WeChat to the caller's own refresh: WeChat may have killed it since (a refresh
    # elsewhere, an expiry out of band), so it does not count as the caller's one refresh.
    borrowed: bool = field(default=False, compare=False)


def token_state_lock(
    *, authorizer_id: int | None = None, appid: str | None = None, skip_locked: bool = False
) -> Authorizer | None:
    """The row, locked until the caller's transaction ends (call inside transaction.atomic)."""
    rows = Authorizer.objects.select_for_update(skip_locked=skip_locked)
    rows = rows.filter(pk=authorizer_id) if authorizer_id is not None else rows.filter(appid=appid)
    return rows.first()


def token_state_version(*, authorizer_id: int) -> int | None:
    """What the row holds now: capture it before a WeChat call whose answer will be stored."""
    return (
        Authorizer.objects.filter(pk=authorizer_id).values_list("state_version", flat=True).first()
    )


def access_token_of(authorizer: Authorizer) -> AccessToken:
    return AccessToken(
        authorizer.access_token, authorizer.token_version, authorizer.access_token_expires_at
    )


def token_state_copy(*, target: Authorizer, token: AccessToken) -> None:
    """Carry a token another caller stored onto an in-memory (e.g. cached) instance; no write."""
    target.access_token = token.token
    target.access_token_expires_at = token.expires_at
    target.token_version = token.version


def token_state_copy_status(*, target: Authorizer, status: str) -> None:
    """Carry a stop we learned of onto an in-memory instance; no write."""
    target.status = status


def _save(row: Authorizer, fields: list[str]) -> None:
    row.state_version += 1
    # save(), not update(): post_save drops the merchant API's cached copy of the row.
    row.save(update_fields=[*fields, "state_version", "updated_at"])


# --- refresh ------------------------------------------------------------------------------
def token_state_store_refresh(row: Authorizer, *, answer: RefreshAnswer, seen_version: int) -> bool:
    """api_authorizer_token's answer. False (nothing written) if the row moved on meanwhile."""
    if row.state_version != seen_version or row.status in STOPPED:
        logger.warning("authorizer %s: refresh answer outdated, not stored", row.appid)
        return False
    payload = answer.payload
    lifetime = int(payload.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
    row.access_token = str(payload["authorizer_access_token"])
    row.access_token_expires_at = answer.requested_at + timedelta(seconds=lifetime)
    row.token_version += 1
    # Store whatever comes back: WeChat may rotate it, and only this row keeps it.
    row.refresh_token = str(payload.get("authorizer_refresh_token") or row.refresh_token)
    row.last_refreshed_at = timezone.now()
    row.last_refresh_error = ""
    _save(
        row,
        [
            "access_token",
            "access_token_expires_at",
            "token_version",
            "refresh_token",
            "last_refreshed_at",
            "last_refresh_error",
        ],
    )
    refresh_intents_clear(authorizer_id=row.pk)
    return True


def refresh_intent_open(*, authorizer_id: int) -> int:
    """Commit (autocommit, outside any lock) before calling WeChat; see RefreshIntent."""
    return RefreshIntent.objects.create(authorizer_id=authorizer_id, started_at=timezone.now()).pk


def refresh_intent_close(*, intent_id: int) -> None:
    RefreshIntent.objects.filter(pk=intent_id).delete()


def refresh_intents_clear(*, authorizer_id: int) -> None:
    """The row holds WeChat's latest answer: no earlier attempt needs repairing."""
    RefreshIntent.objects.filter(authorizer_id=authorizer_id).delete()


# --- stops ----------------------------------------------------------------------------------
def token_state_stop(
    row: Authorizer, *, status: str, at: datetime | None = None, error: str | None = None
) -> bool:
    """Revoked or needs re-authorization: the token is useless and dropped in the same write.

    `at`: when WeChat says it happened (an `unauthorized` push's CreateTime). A stop older
    than the stored authorization belongs to an earlier one and is not applied (False).
    """
    authorized_at = row.authorized_at
    if at is not None and authorized_at is not None and at < authorized_at.replace(microsecond=0):
        logger.info("authorizer %s: stop from before its last authorization ignored", row.appid)
        return False
    if row.status == status and not row.access_token:
        return False
    row.status = status
    row.access_token = ""
    row.access_token_expires_at = None
    fields = ["status", "access_token", "access_token_expires_at"]
    if status == Authorizer.Status.REVOKED:
        row.revoked_at = min(at or timezone.now(), timezone.now())
        fields.append("revoked_at")
    if error is not None:
        row.last_refresh_error = error[:300]
        fields.append("last_refresh_error")
    _save(row, fields)
    refresh_intents_clear(authorizer_id=row.pk)
    account_event_record(
        row,
        type=AccountEvent.Type.REVOKED
        if status == Authorizer.Status.REVOKED
        else AccountEvent.Type.REAUTHORIZATION_REQUIRED,
    )
    return True


# --- grants ---------------------------------------------------------------------------------
def token_state_grant_is_older(row: Authorizer, *, authorized_at: datetime) -> bool:
    """An authorization from before the one (or the stop) the row already records."""
    newest = max((t for t in (row.authorized_at, row.revoked_at) if t is not None), default=None)
    return newest is not None and authorized_at.replace(microsecond=0) < newest.replace(
        microsecond=0
    )


def token_state_store_grant(
    row: Authorizer, *, authorization_info: dict[str, Any], authorized_at: datetime
) -> bool:
    """api_query_auth's authorization_info: a (re-)authorization, so the account is active.

    `row` may be new (unsaved). False when the row records a newer authorization or stop.
    """
    if row.pk is not None and token_state_grant_is_older(row, authorized_at=authorized_at):
        logger.warning("authorizer %s: grant older than the stored state ignored", row.appid)
        return False
    # What the row held before this grant (the caller may already have placed it under a new
    # owner in memory): decides which events the grant is.
    before = (
        Authorizer.objects.filter(pk=row.pk)
        .values("merchant_id", "status", "permission_sets")
        .first()
        if row.pk is not None
        else None
    )
    now = timezone.now()
    row.refresh_token = str(authorization_info["authorizer_refresh_token"])
    access_token = str(authorization_info.get("authorizer_access_token") or "")
    if access_token:
        lifetime = int(authorization_info.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        row.access_token = access_token
        row.access_token_expires_at = now + timedelta(seconds=lifetime)
        row.token_version += 1
        row.last_refreshed_at = now
    else:  # no API permission: nothing to call with, and the old token died with the grant
        row.access_token = ""
        row.access_token_expires_at = None
    row.permission_sets = permission_sets_from_func_info(authorization_info.get("func_info"))
    row.status = Authorizer.Status.ACTIVE
    row.authorized_at = min(authorized_at, now)
    row.revoked_at = None
    row.last_refresh_error = ""
    if row.pk is None:
        row.state_version = 1
        row.save()
    else:
        _save(
            row,
            [
                "refresh_token",
                "access_token",
                "access_token_expires_at",
                "token_version",
                "last_refreshed_at",
                "permission_sets",
                "status",
                "authorized_at",
                "revoked_at",
                "last_refresh_error",
                "merchant",
            ],
        )
    refresh_intents_clear(authorizer_id=row.pk)
    if (
        before is None
        or before["status"] != Authorizer.Status.ACTIVE
        or before["merchant_id"] != row.merchant_id
    ):
        account_owner_changed(row, old_merchant_id=before and before["merchant_id"])
    elif sorted(before["permission_sets"] or []) != sorted(row.permission_sets or []):
        account_event_record(row, type=AccountEvent.Type.UPDATED)
    return True


def token_state_store_info_grant(
    row: Authorizer,
    *,
    grant: dict[str, Any],
    seen_version: int,
    reactivate: bool = False,
    profile_changed: bool = False,
) -> bool:
    """api_get_authorizer_info's authorization_info: the grant and WeChat's current refresh token.

    Only while the row holds `seen_version`. A stopped account stays stopped unless
    `reactivate` (an import found a newer authorization): then it is active again, under the
    holding merchant, since no invite said whose it is.
    `profile_changed`: the same answer changed the account type or verification (stored by the
    caller), which is an `authorizer.updated` like a change of permission sets.
    """
    if row.state_version != seen_version:
        logger.info("authorizer %s: info answer outdated, grant not stored", row.appid)
        if profile_changed and row.status == Authorizer.Status.ACTIVE:
            account_event_record(row, type=AccountEvent.Type.UPDATED)
        return False
    refresh_token = str(grant.get("authorizer_refresh_token") or "")
    fields: list[str] = []
    old_merchant_id = None
    if row.status in STOPPED:
        if not (reactivate and refresh_token and refresh_token != row.refresh_token):
            return False
        old_merchant_id = row.merchant_id
        row.status, row.revoked_at = Authorizer.Status.ACTIVE, None
        row.authorized_at = timezone.now()
        row.merchant = merchant_holding_get()
        fields += ["status", "revoked_at", "authorized_at", "merchant"]
    if "func_info" in grant:
        sets = permission_sets_from_func_info(grant["func_info"])
        if sets != row.permission_sets:
            row.permission_sets = sets
            fields.append("permission_sets")
    if refresh_token and refresh_token != row.refresh_token:
        row.refresh_token = refresh_token
        fields.append("refresh_token")
    if fields:
        _save(row, fields)
    if old_merchant_id is not None:
        account_owner_changed(row, old_merchant_id=old_merchant_id)
    elif profile_changed or "permission_sets" in fields:
        account_event_record(row, type=AccountEvent.Type.UPDATED)
    return bool(fields)


# --- ownership ------------------------------------------------------------------------------
def token_state_set_owner(row: Authorizer, *, merchant_id: int) -> None:
    """The account goes to another merchant (a claim, a move, an operator's transfer).

    Not token state, but a change both merchants hear about: the row's owner as the database
    holds it (the caller may have changed the instance already) is told `removed`.
    """
    old_merchant_id = (
        Authorizer.objects.filter(pk=row.pk).values_list("merchant_id", flat=True).first()
    )
    row.merchant_id = merchant_id
    row.save(update_fields=["merchant", "updated_at"])
    if old_merchant_id != merchant_id:
        account_owner_changed(row, old_merchant_id=old_merchant_id)


def token_state_new_listed(
    *, appid: str, refresh_token: str, authorized_at: datetime | None
) -> Authorizer:
    """An account api_get_authorizer_list showed and we never stored (caller bulk-creates)."""
    return Authorizer(
        appid=appid,
        merchant=merchant_holding_get(),
        refresh_token=refresh_token,
        authorized_at=authorized_at,
        state_version=1,
    )
