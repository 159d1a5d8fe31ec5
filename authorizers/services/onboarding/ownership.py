"""Whose account is it (SPEC section 9): placing a (re-)authorized account, conflicts, transfers.

An account belongs to the merchant whose invite it was authorized through:
- new: it goes to that merchant (or, when no invite is known, to the holding merchant);
- owned by the same merchant, or parked under the holding merchant: it is (re)claimed;
- stopped (revoked / needs re-authorization) under another merchant: it moves, and the old
  owner sees 404 from then on;
- active under another merchant: it stays, the claimant sees the conflict page, and operators
  see the conflict in the admin, where they can transfer it.
With no invite known (a push whose PreAuthCode no /start/ issued, an import), a stopped
account goes to the holding merchant, never back to the merchant that lost it.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from authorizers.models import AuthorizationAttempt, Authorizer, Merchant, OwnershipConflict
from authorizers.services.tokens.state import STOPPED, token_state_lock, token_state_set_owner
from component.services.events import code_sha256

from .holding import merchant_holding_get

logger = logging.getLogger(__name__)


class Placement(StrEnum):
    CREATED = "created"
    KEPT = "kept"  # same owner (or no claimant and an active owner)
    CLAIMED = "claimed"  # out of the holding merchant
    MOVED = "moved"  # a stopped account re-authorized through another merchant's invite
    PARKED = "parked"  # a stopped account re-authorized with no invite known
    CONFLICT = "conflict"  # active under another merchant: ownership unchanged


def authorizer_owner_place(
    row: Authorizer | None, *, appid: str, merchant: Merchant | None
) -> tuple[Authorizer, Placement]:
    """Decide (and set on the unsaved instance) who owns the account after an authorization."""
    if row is None:
        return Authorizer(appid=appid, merchant=merchant or merchant_holding_get()), (
            Placement.CREATED
        )
    if merchant is None:
        if row.status in STOPPED and not row.merchant.is_holding:
            row.merchant = merchant_holding_get()
            return row, Placement.PARKED
        return row, Placement.KEPT
    if row.merchant_id == merchant.pk:
        return row, Placement.KEPT
    if row.merchant.is_holding:
        row.merchant = merchant
        return row, Placement.CLAIMED
    if row.status in STOPPED:
        logger.info("authorizer %s moves to merchant %s (was stopped)", appid, merchant.pk)
        row.merchant = merchant
        return row, Placement.MOVED
    return row, Placement.CONFLICT


class OwnershipConflictStale(Exception):
    """The conflict is closed, or the account no longer belongs to the merchant it was about."""


def ownership_conflicts_close_stale(*, authorizer: Authorizer) -> int:
    """Close the open conflicts about an owner the account no longer has: a claim refused
    while A owned it says nothing once it belongs to C (acting on it would hand C's account
    to the old claimant). Call after any change of owner; returns how many were closed."""
    return (
        OwnershipConflict.objects.filter(authorizer_id=authorizer.pk, resolved_at=None)
        .exclude(owner_id=authorizer.merchant_id)
        .update(resolved_at=timezone.now(), resolution="superseded")
    )


def ownership_conflict_record(*, authorizer: Authorizer, claimant: Merchant) -> None:
    """Tell operators (idempotent while the conflict is open)."""
    ownership_conflicts_close_stale(authorizer=authorizer)
    try:
        with transaction.atomic():
            OwnershipConflict.objects.get_or_create(
                authorizer=authorizer,
                claimant=claimant,
                resolved_at=None,
                defaults={"owner_id": authorizer.merchant_id},
            )
    except IntegrityError:
        pass  # recorded by a concurrent request
    logger.warning(
        "authorizer %s: claimed by merchant %s, owned by another", authorizer.appid, claimant.pk
    )


def ownership_conflict_transfer(*, conflict_id: int) -> Authorizer:
    """The operator's decision: the account goes to the claimant; the old owner sees 404.

    OwnershipConflictStale, and nothing moves, when the conflict is closed or the account
    has changed owner since the claim was refused (that conflict is closed then)."""
    with transaction.atomic():
        conflict = OwnershipConflict.objects.select_for_update().get(pk=conflict_id)
        row = token_state_lock(authorizer_id=conflict.authorizer_id)
        stale = conflict.resolved_at is not None or conflict.owner_id != row.merchant_id
        if stale:
            ownership_conflicts_close_stale(authorizer=row)
        else:
            token_state_set_owner(row, merchant_id=conflict.claimant_id)
            _close(conflict, "transferred")
            OwnershipConflict.objects.filter(authorizer=row, resolved_at=None).exclude(
                pk=conflict.pk
            ).update(resolved_at=timezone.now(), resolution="superseded")
    if stale:
        raise OwnershipConflictStale(
            f"{row} no longer belongs to the merchant this claim was refused for: nothing moved."
        )
    logger.info("authorizer %s transferred to merchant %s", row.appid, conflict.claimant_id)
    return row


def ownership_conflict_dismiss(*, conflict_id: int) -> None:
    with transaction.atomic():
        conflict = OwnershipConflict.objects.select_for_update().get(pk=conflict_id)
        _close(conflict, "dismissed")


def _close(conflict: OwnershipConflict, resolution: str) -> None:
    if conflict.resolved_at is None:
        conflict.resolved_at = timezone.now()
        conflict.resolution = resolution
        conflict.save(update_fields=["resolved_at", "resolution"])


def authorization_attempt_record(*, merchant: Merchant, pre_auth_code: str) -> None:
    """`/start/` obtained this pre_auth_code for this merchant's invite."""
    AuthorizationAttempt.objects.get_or_create(
        pre_auth_code_sha256=code_sha256(pre_auth_code), defaults={"merchant": merchant}
    )


def authorization_attempt_merchant(*, pre_auth_code_sha256: str) -> Merchant | None:
    """The merchant whose invite issued the pre_auth_code a push carried, if any did."""
    if not pre_auth_code_sha256:
        return None
    attempt = (
        AuthorizationAttempt.objects.select_related("merchant")
        .filter(pre_auth_code_sha256=pre_auth_code_sha256, merchant__is_active=True)
        .first()
    )
    return attempt.merchant if attempt else None
