from __future__ import annotations

from django.contrib import admin

from ..capabilities import capabilities_registered, capability_get
from ..selectors.dashboard import ELIGIBILITY_KINDS, authorizer_eligibility_q


class EligibilityFilter(admin.SimpleListFilter):
    """Which accounts can use each capability, and for those that cannot, the first reason.

    Values are "<capability>:<kind>", e.g. "user_tags:permission".
    """

    title = "eligibility"
    parameter_name = "eligibility"

    def lookups(self, request, model_admin):
        choices = []
        for capability in capabilities_registered():
            action = capability.action or f"use {capability.title}"
            for kind, label in ELIGIBILITY_KINDS.items():
                text = f"Can {action}" if kind == "usable" else f"Cannot {action}: {label.lower()}"
                choices.append((f"{capability.name}:{kind}", text))
        return choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        name, _, kind = self.value().partition(":")
        try:
            capability = capability_get(name)
        except KeyError:
            return queryset.none()
        return queryset.filter(authorizer_eligibility_q(capability=capability, kind=kind))
