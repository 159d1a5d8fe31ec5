"""The operators' dashboard at /admin/dashboard/: everyone's health on one page.

Served by the operators' admin site (site.py), staff-only like every admin page.
The chart is an inline SVG drawn here: the page needs no script and no CDN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin import AdminSite
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from authorizers.capabilities import capabilities_registered
from authorizers.models import Authorizer
from authorizers.selectors import dashboard as sel
from authorizers.services.retention import RETAINED_LOGS, logs_prune_last_run
from component.services.token import component_ticket_expired

from .labels import humanize_age, humanize_until


@dataclass(frozen=True)
class DashboardLine:
    """A line an app above this layer adds to the dashboard (it cannot be imported from here):
    shown to operators holding `permission`; `read()` -> (text, healthy, url)."""

    section: str
    permission: str
    read: Callable[[], tuple[str, bool, str]]


DASHBOARD_LINES: list[DashboardLine] = []


def dashboard_line_register(line: DashboardLine) -> None:
    DASHBOARD_LINES.append(line)


CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 1000, 220, 40, 24, 10
TICKET_FRESH_SECONDS = 30 * 60  # pushed every 10 minutes: 3 missed pushes is worth a look


@dataclass(frozen=True)
class Bar:
    x: float
    w: float
    calls_y: float
    calls_h: float
    errors_y: float
    errors_h: float
    label: str
    tip: str


def _nice_max(value: int) -> int:
    # Quarters of these are whole numbers: the grid lines get integer labels.
    for step in (4, 8, 12, 20, 40, 60, 100, 200, 400, 1000, 2000, 4000, 10000, 20000, 40000):
        if value <= step:
            return step
    return -(-value // 4) * 4


def chart_geometry(buckets: list[sel.HourBucket]) -> dict:
    top = _nice_max(max((b.calls for b in buckets), default=0))
    plot_w, plot_h = CHART_W - PAD_L - 8, CHART_H - PAD_B - PAD_T
    slot = plot_w / max(len(buckets), 1)
    bars = []
    for i, b in enumerate(buckets):
        calls_h, errors_h = plot_h * b.calls / top, plot_h * b.errors / top
        bars.append(
            Bar(
                x=round(PAD_L + i * slot + 2, 1),
                w=round(slot - 4, 1),
                calls_y=round(PAD_T + plot_h - calls_h, 1),
                calls_h=round(calls_h, 1),
                errors_y=round(PAD_T + plot_h - errors_h, 1),
                errors_h=round(errors_h, 1),
                label=b.hour.strftime("%H:00") if i % 3 == 0 else "",
                tip=f"{b.hour:%Y-%m-%d %H:00} UTC: {b.calls} calls, {b.errors} errors",
            )
        )
    grid = [
        {"y": round(PAD_T + plot_h - plot_h * f, 1), "value": int(top * f)}
        for f in (0, 0.25, 0.5, 0.75, 1)
    ]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "bars": bars,
        "grid": grid,
        "left": PAD_L,
        "right": CHART_W - 8,
        "label_y": CHART_H - 6,
        "total_calls": sum(b.calls for b in buckets),
        "total_errors": sum(b.errors for b in buckets),
    }


def _component(*, with_last_event: bool) -> dict:
    state = sel.component_state_current()
    event = sel.component_event_last() if with_last_event else None
    now = timezone.now()
    ticket_at = state.ticket_received_at if state else None
    if ticket_at is None or component_ticket_expired(received_at=ticket_at, now=now):
        ticket_health = "bad"
    else:
        fresh = (now - ticket_at).total_seconds() <= TICKET_FRESH_SECONDS
        ticket_health = "ok" if fresh else "warn"
    expires_at = state.access_token_expires_at if state else None
    return {
        "appid": state.component_appid if state else None,
        "ticket_age": f"received {humanize_age(ticket_at)}"
        if ticket_at
        else "no ticket received yet",
        "ticket_health": ticket_health,
        "token_expiry": humanize_until(expires_at) if expires_at else "not fetched yet",
        "token_health": "ok" if expires_at and expires_at > now else "bad",
        "show_last_event": with_last_event,
        "last_event": event,
        "last_event_age": humanize_age(event.received_at) if event else "",
    }


def _eligibility(counts_by_capability: dict[str, dict[str, int]]) -> list[dict]:
    url = reverse("admin:authorizers_authorizer_changelist")
    rows = []
    for capability in capabilities_registered():
        counts = counts_by_capability[capability.name]
        action = capability.action or f"use {capability.title}"
        for kind, label in sel.ELIGIBILITY_KINDS.items():
            text = f"Can {action}" if kind == "usable" else f"Cannot: {label.lower()}"
            rows.append(
                {
                    "label": text,
                    "count": counts[kind],
                    "usable": kind == "usable",
                    "url": f"{url}?eligibility={capability.name}:{kind}",
                }
            )
    return rows


# Each section shows one model's data: it needs that model's view permission, like its
# admin page. Merchant names in the account and call tables need view_merchant too.
SECTION_PERMISSIONS = {
    "component": "component.view_componentstate",
    "last_event": "component.view_componentevent",
    "authorizers": "authorizers.view_authorizer",
    "merchants": "authorizers.view_merchant",
    "api_calls": "authorizers.view_apicall",
}


def dashboard_sections(user) -> dict[str, bool]:
    """Which sections `user` may see (a superuser has every permission)."""
    return {name: user.has_perm(perm) for name, perm in SECTION_PERMISSIONS.items()}


def _authorizer_sections() -> dict:
    url = reverse("admin:authorizers_authorizer_changelist")
    counts = sel.authorizer_counts_recent(capabilities=capabilities_registered())
    by_status = counts.by_status
    statuses = [
        {"label": label, "count": by_status[value], "value": value, "url": f"{url}?status={value}"}
        for value, label in Authorizer.Status.choices
    ]
    expiring = [
        (a, humanize_until(a.access_token_expires_at))
        for a in sel.authorizer_list_expiring_soonest()
    ]
    return {
        "statuses": statuses,
        "eligibility": _eligibility(counts.eligibility),
        "expiring": expiring,
        "needing_reauth": sel.authorizer_list_needing_reauth(),
        "conflicts": sel.ownership_conflict_list_open(),
        "quota_warnings": sel.quota_reading_list_above(),
    }


def _api_call_sections() -> dict:
    return {
        "recent_errors": sel.api_call_list_recent_errors(),
        "chart": chart_geometry(sel.api_call_count_per_hour(hours=24)),
    }


def _retention(user) -> list[dict]:
    """Each log the operator may view: its size, oldest row, retention, last prune."""
    last = logs_prune_last_run() or {}
    rows = []
    for log in RETAINED_LOGS:
        opts = log.model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            continue
        size = sel.log_size(model=log.model, time_field=log.time_field)
        rows.append(
            {
                "title": log.title,
                "rows": f"about {size.rows}" if size.estimated else str(size.rows),
                "oldest": humanize_age(size.oldest) if size.oldest else "none",
                "days": log.days,
                "deleted": last.get("deleted", {}).get(log.name),
            }
        )
    return rows


def dashboard_view(request, site: AdminSite):
    can = dashboard_sections(request.user)
    context = {**site.each_context(request), "title": "Dashboard", "can": can}
    # Only what the operator may see is even read.
    if can["component"]:
        context["component"] = _component(with_last_event=can["last_event"])
    if can["authorizers"]:
        context.update(_authorizer_sections())
    if can["api_calls"]:
        context.update(_api_call_sections())
    context["extra_lines"] = [
        {"section": line.section, **dict(zip(("text", "healthy", "url"), line.read(), strict=True))}
        for line in DASHBOARD_LINES
        if request.user.has_perm(line.permission)
    ]
    context["retention"] = _retention(request.user)
    context["retention_last_run"] = (logs_prune_last_run() or {}).get("at")
    return TemplateResponse(request, "admin/dashboard.html", context)
