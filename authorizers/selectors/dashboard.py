"""Reads for the operators' admin: the dashboard, the eligibility filter, an account's history.

Eligibility is computed in the database so the filter and the counts stay cheap with many
accounts; the kinds mirror capabilities.capability_status's first-failure order, so every
account falls in exactly one kind and the kinds add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from component.models import ComponentEvent, ComponentState
from core.db_scale import EXACT_COUNT_UP_TO, estimated_count

from ..account_type import VERIFIED_Q
from ..capabilities import Capability
from ..models import ApiCall, Authorizer, OwnershipConflict, QuotaReading

ELIGIBILITY_KINDS: dict[str, str] = {
    "usable": "Usable",
    "inactive": "Revoked or needs re-authorization",
    "permission": "Permission set not granted",
    "type_unknown": "Account type not synced yet",
    "not_service": "Not a Service Account",
    "unverified": "Not verified",
}
_ACTIVE = Q(status=Authorizer.Status.ACTIVE)
_SERVICE = Q(service_type=Authorizer.ServiceType.SERVICE)


def _granted_any(sets: frozenset[int]) -> Q:
    if connection.features.supports_json_field_contains:
        q = Q(pk__in=[])
        for set_id in sets:
            q |= Q(permission_sets__contains=[set_id])
        return q
    # SQLite cannot look inside a JSON list: decide in Python (test fallback only).
    pks = [
        pk
        for pk, granted in Authorizer.objects.values_list("pk", "permission_sets")
        if sets.intersection(granted or ())
    ]
    return Q(pk__in=pks)


def authorizer_eligibility_q(*, capability: Capability, kind: str) -> Q:
    granted = _ACTIVE & _granted_any(capability.permission_sets)
    service = _SERVICE if capability.requires_service_account else Q()
    verified = VERIFIED_Q if capability.requires_verified else Q()
    if kind == "inactive":
        return ~_ACTIVE
    if kind == "permission":
        return _ACTIVE & ~_granted_any(capability.permission_sets)
    if kind == "type_unknown" and capability.requires_service_account:
        return granted & Q(service_type__isnull=True)
    if kind == "not_service" and capability.requires_service_account:
        return granted & Q(service_type__isnull=False) & ~_SERVICE
    if kind == "unverified" and capability.requires_verified:
        return granted & service & ~VERIFIED_Q
    if kind == "usable":
        return granted & service & verified
    return Q(pk__in=[])


def authorizer_count_by_eligibility(*, capability: Capability) -> dict[str, int]:
    return authorizer_counts(capabilities=[capability]).eligibility[capability.name]


@dataclass(frozen=True)
class AuthorizerCounts:
    by_status: dict[str, int]
    eligibility: dict[str, dict[str, int]]  # capability name -> kind -> count


def authorizer_counts(*, capabilities: list[Capability]) -> AuthorizerCounts:
    """Accounts by status and, per capability, by eligibility kind: one pass over the table
    (one aggregate of filtered counts) instead of a count, or a DISTINCT count, each."""
    aggregates = {
        f"s_{i}": Count("id", filter=Q(status=value))
        for i, value in enumerate(Authorizer.Status.values)
    }
    for c, capability in enumerate(capabilities):
        for k, kind in enumerate(ELIGIBILITY_KINDS):
            q = authorizer_eligibility_q(capability=capability, kind=kind)
            aggregates[f"e_{c}_{k}"] = Count("id", filter=q)
    row = Authorizer.objects.aggregate(**aggregates)
    return AuthorizerCounts(
        by_status={v: row[f"s_{i}"] for i, v in enumerate(Authorizer.Status.values)},
        eligibility={
            capability.name: {kind: row[f"e_{c}_{k}"] for k, kind in enumerate(ELIGIBILITY_KINDS)}
            for c, capability in enumerate(capabilities)
        },
    )


_COUNTS_KEY = "dashboard:authorizer-counts"
# Beat recounts every DASHBOARD_COUNTS_INTERVAL (60 s); an entry outlives two of its runs.
COUNTS_CACHE_SECONDS = 150


def authorizer_counts_store(*, capabilities: list[Capability]) -> AuthorizerCounts:
    """Count now and keep the counts for the dashboard (beat's `dashboard-counts`)."""
    counts = authorizer_counts(capabilities=capabilities)
    cache.set(_COUNTS_KEY, counts, COUNTS_CACHE_SECONDS)
    return counts


def authorizer_counts_recent(*, capabilities: list[Capability]) -> AuthorizerCounts:
    """The counts beat kept (at most a minute or so old), or counted now if there are none:
    one pass over a million accounts costs seconds, too long for every dashboard view."""
    counts = cache.get(_COUNTS_KEY)
    if isinstance(counts, AuthorizerCounts) and set(counts.eligibility) == {
        c.name for c in capabilities
    }:
        return counts
    return authorizer_counts_store(capabilities=capabilities)


def authorizer_counts_forget() -> None:
    """After a change an operator expects to see counted at once (tests, bulk actions)."""
    cache.delete(_COUNTS_KEY)


def authorizer_count_by_status(*, merchant_id: int | None = None) -> dict[str, int]:
    rows = Authorizer.objects.all()
    if merchant_id is not None:
        rows = rows.filter(merchant_id=merchant_id)
    # COUNT(*), not COUNT(id): the (merchant, status) index alone answers it (id is not in it).
    counts = dict(rows.values_list("status").annotate(n=Count("*")).order_by("status"))
    return {status: counts.get(status, 0) for status in Authorizer.Status.values}


def authorizer_list_expiring_soonest(*, limit: int = 10) -> QuerySet[Authorizer]:
    return (
        Authorizer.objects.filter(_ACTIVE, access_token_expires_at__isnull=False)
        .select_related("merchant")
        .order_by("access_token_expires_at", "id")[:limit]
    )


def authorizer_list_needing_reauth(*, limit: int = 20) -> QuerySet[Authorizer]:
    return (
        Authorizer.objects.exclude(_ACTIVE)
        .select_related("merchant")
        .order_by("-updated_at", "id")[:limit]
    )


def ownership_conflict_list_open(*, limit: int = 20) -> QuerySet[OwnershipConflict]:
    return (
        OwnershipConflict.objects.filter(resolved_at=None)
        .select_related("authorizer__merchant", "claimant")
        .order_by("-created_at")[:limit]
    )


def ownership_conflict_list_open_for(*, authorizer: Authorizer) -> QuerySet[OwnershipConflict]:
    """Claims on this account that no operator has decided yet, oldest first."""
    return (
        OwnershipConflict.objects.filter(authorizer=authorizer, resolved_at=None)
        .select_related("claimant")
        .order_by("created_at")
    )


def api_call_list_recent_errors(*, limit: int = 15) -> QuerySet[ApiCall]:
    return ApiCall.objects.exclude(result="ok").select_related("merchant")[:limit]


@dataclass(frozen=True)
class HourBucket:
    hour: datetime
    calls: int
    errors: int


def api_call_count_per_hour(*, hours: int = 24, now: datetime | None = None) -> list[HourBucket]:
    """Calls and errors per hour, oldest first, the current hour last; empty hours included."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    rows = (
        ApiCall.objects.filter(created_at__gte=start)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(calls=Count("id"), errors=Count("id", filter=~Q(result="ok")))
        .order_by("hour")
    )
    by_hour = {row["hour"]: row for row in rows}
    buckets = []
    for i in range(hours):
        hour = start + timedelta(hours=i)
        row = by_hour.get(hour, {})
        buckets.append(HourBucket(hour, row.get("calls", 0), row.get("errors", 0)))
    return buckets


def component_state_current() -> ComponentState | None:
    """The component's row, or None before the first ticket (a GET must not create it)."""
    return ComponentState.objects.filter(component_appid=settings.WECHAT_COMPONENT_APPID).first()


def component_event_last() -> ComponentEvent | None:
    return ComponentEvent.objects.order_by("-received_at").first()


def authorizer_recent_api_calls(*, authorizer: Authorizer, limit: int = 20) -> list[ApiCall]:
    """Newest first: the calls linked to the account, and those logged with its appid alone
    (before it was stored). Two queries, each the newest `limit` of its own index, merged:
    one query ORing both reads every match before it can sort them."""
    linked = ApiCall.objects.filter(authorizer=authorizer).order_by("-created_at", "-id")
    unlinked = ApiCall.objects.filter(
        authorizer__isnull=True, authorizer_appid=authorizer.appid
    ).order_by("-created_at", "-id")
    calls = [
        *linked.select_related("merchant")[:limit],
        *unlinked.select_related("merchant")[:limit],
    ]
    calls.sort(key=lambda c: (c.created_at, c.pk), reverse=True)
    return calls[:limit]


def authorizer_search_q(term: str) -> Q:
    """The admin's account search: an appid prefix (the appid's pattern index on PostgreSQL)
    or a part of the nickname, any case (the trigram index on UPPER(nickname), where
    migration 0004 could create it; a scan elsewhere, e.g. on SQLite)."""
    return Q(appid__startswith=term) | Q(nickname__icontains=term)


def api_call_search_q(term: str) -> Q:
    """The call log's search: an account's appid (its calls, linked or not) or a rid."""
    ids = list(Authorizer.objects.filter(appid=term).values_list("id", flat=True)[:1])
    return (
        Q(authorizer_id__in=ids)
        | Q(authorizer__isnull=True, authorizer_appid=term)
        | (~Q(rid="") & Q(rid=term))
    )


def authorizer_recent_events(
    *, authorizer: Authorizer, limit: int = 20
) -> QuerySet[ComponentEvent]:
    return ComponentEvent.objects.filter(authorizer_appid=authorizer.appid)[:limit]


# --- log retention ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogSize:
    rows: int
    estimated: bool
    oldest: datetime | None


def log_size(*, model, time_field: str) -> LogSize:
    """A log's rows (PostgreSQL's estimate when large: an exact count scans) and its oldest
    row's time (the time index's first entry)."""
    rows = model.objects.all()
    estimate = estimated_count(rows)
    estimated = estimate is not None and estimate > EXACT_COUNT_UP_TO
    count = estimate if estimated else rows.count()
    oldest = rows.order_by(time_field).values_list(time_field, flat=True).first()
    return LogSize(count, estimated, oldest)


# --- WeChat quota -------------------------------------------------------------------------
QUOTA_WARNING_SHARE = 0.8


def authorizer_quota_readings(*, authorizer: Authorizer) -> list[QuotaReading]:
    return list(QuotaReading.objects.filter(authorizer=authorizer).order_by("api"))


def quota_reading_list_above(*, share: float = QUOTA_WARNING_SHARE, limit: int = 20) -> list:
    """Accounts whose last reading of any API's quota is above `share` used, fullest first."""
    return list(
        QuotaReading.objects.filter(daily_limit__gt=0, used__gt=F("daily_limit") * share)
        .select_related("authorizer__merchant")
        .order_by(-(F("used") * 1.0 / F("daily_limit")), "id")[:limit]
    )


def quota_counts_by_api(*, apis: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Per API: accounts stopped locally after a 45009 (until WeChat's midnight), and
    accounts above QUOTA_WARNING_SHARE of the quota at their last reading."""
    now = timezone.now().isoformat()
    stopped = {}
    for api in apis:
        # quota_stops holds ISO times in UTC offset form, which sort as text.
        stopped[api] = Authorizer.objects.filter(**{f"quota_stops__{api}__until__gt": now}).count()
    above = dict(
        QuotaReading.objects.filter(
            api__in=apis, daily_limit__gt=0, used__gt=F("daily_limit") * QUOTA_WARNING_SHARE
        )
        .values_list("api")
        .annotate(n=Count("id"))
        .values_list("api", "n")
    )
    return stopped, above
