"""Reads. Each topic keeps its selectors together under its own heading."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from ..models import Authorizer, RefreshIntent

# --- token refresh ------------------------------------------------------------------------


def authorizer_list_refreshable() -> QuerySet[Authorizer]:
    """Authorizers whose token we keep fresh: active, and holding a refresh token.

    `status = active` (not "not stopped"): an equality the (status, expiry) index serves, so
    the sweep reads the active accounts due and never the stopped ones, however many.
    """
    return Authorizer.objects.filter(status=Authorizer.Status.ACTIVE).exclude(refresh_token="")


def authorizer_list_expiring(*, within: timedelta) -> QuerySet[Authorizer]:
    """Authorizers whose access token expires within `within` (or that have none yet).

    Revoked and needs-re-authorization accounts are never listed: their refresh stops.
    An account without a refresh token cannot be refreshed and is left to onboarding.
    No token at all first, then soonest expiry, so a backlog serves the most urgent accounts first.
    """
    deadline = timezone.now() + within
    return (
        authorizer_list_refreshable()
        .filter(Q(access_token_expires_at__lt=deadline) | Q(access_token_expires_at__isnull=True))
        .order_by(F("access_token_expires_at").asc(nulls_first=True), "id")
    )


def authorizer_ids_with_unconfirmed_refresh(*, older_than: timedelta) -> list[int]:
    """Active accounts whose refresh called WeChat longer ago than `older_than` and whose
    answer never reached the row (a RefreshIntent left behind: a crash or a failed commit)."""
    started_before = timezone.now() - older_than
    return list(
        authorizer_list_refreshable()
        .filter(
            pk__in=RefreshIntent.objects.filter(started_at__lt=started_before).values("authorizer")
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def authorizer_token_expiry_horizon() -> float | None:
    """Seconds until the earliest active access token expires (negative: already expired)."""
    earliest = authorizer_list_refreshable().aggregate(earliest=Min("access_token_expires_at"))[
        "earliest"
    ]
    if earliest is None:
        return None
    return (earliest - timezone.now()).total_seconds()


def authorizer_count_needing_reauth() -> int:
    return Authorizer.objects.filter(status=Authorizer.Status.REAUTH_REQUIRED).count()
