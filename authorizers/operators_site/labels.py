"""How the admin words things: durations, account types, permission-set badges, capabilities."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from authorizers.account_type import authorizer_verified
from authorizers.capabilities import Capability, capabilities_registered, capability_status
from authorizers.models import Authorizer

from ..permission_sets import permission_set_labels

DASH = "—"


def _span(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


def humanize_until(when: datetime | None, *, now: datetime | None = None) -> str:
    """'in 1 h 58 min', or 'expired 3 min ago'."""
    if when is None:
        return DASH
    delta = (when - (now or timezone.now())).total_seconds()
    return f"in {_span(delta)}" if delta >= 0 else f"expired {_span(delta)} ago"


def humanize_age(when: datetime | None, *, now: datetime | None = None) -> str:
    if when is None:
        return DASH
    return f"{_span(((now or timezone.now()) - when).total_seconds())} ago"


def account_type_label(authorizer: Authorizer) -> str:
    if authorizer.service_type is None:
        return "Not synced yet"
    return authorizer.get_service_type_display()


def verified_label(authorizer: Authorizer) -> str:
    verified = authorizer_verified(authorizer)
    if verified is None:
        return "Not synced yet"
    return "Verified" if verified else "Not verified"


def key_permission_sets() -> frozenset[int]:
    """The sets some registered capability needs (2 and 100 today): highlighted in badges."""
    sets: frozenset[int] = frozenset()
    for capability in capabilities_registered():
        sets |= capability.permission_sets
    return sets


def permission_set_badges(set_ids: list[int] | None, *, compact: bool = False) -> SafeString:
    """One badge per set, "2 · User management"; `compact` names only the key sets."""
    if not set_ids:
        return format_html('<span class="wxt-muted">{}</span>', "none")
    key = key_permission_sets()
    return format_html_join(
        " ",
        '<span class="wxt-badge{}" title="permission set {} · {}">{}</span>',
        (
            (
                " wxt-badge--key" if set_id in key else "",
                set_id,
                name,
                str(set_id) if compact and set_id not in key else f"{set_id} · {name}",
            )
            for set_id, name in permission_set_labels(set_ids)
        ),
    )


def capability_cell(authorizer: Authorizer, capability: Capability) -> SafeString:
    status = capability_status(authorizer, capability)
    if status.usable:
        return format_html('<span class="wxt-yes">{}</span>', "Yes")
    # The reasons are worded for the merchant ("You withdrew ..."); a stopped account's
    # status is in its own column, so the operator gets that instead.
    reason = status.reason
    if authorizer.status != Authorizer.Status.ACTIVE:
        reason = f"the account is stopped ({authorizer.get_status_display()})."
    return format_html(
        '<span class="wxt-no">{}</span> <span class="wxt-reason">{}</span>', "No:", reason
    )


def status_label(authorizer: Authorizer) -> SafeString:
    css = {"active": "wxt-yes", "revoked": "wxt-no", "reauth_required": "wxt-warn"}
    return format_html(
        '<span class="{}">{}</span>',
        css.get(authorizer.status, ""),
        authorizer.get_status_display(),
    )
