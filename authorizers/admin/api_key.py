"""API keys across merchants: only the prefix is shown (no key, no hash)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import ApiKey
from ..services.api_keys import api_key_revoke


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.action(description="Revoke selected API keys", permissions=["change"])
def revoke_keys(modeladmin, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
    revoked = 0
    for api_key in queryset.filter(revoked_at__isnull=True):
        api_key_revoke(api_key=api_key)
        revoked += 1
    messages.success(request, f"Revoked {revoked} API key(s); requests with them now get 401.")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "merchant", "created_at", "last_used_at", "state")
    list_filter = (RevokedFilter, "merchant")
    search_fields = ("prefix", "name", "merchant__name")
    list_select_related = ("merchant",)
    actions = (revoke_keys,)
    fields = ("key", "merchant", "name", "state", "created_at", "last_used_at",
              "rate_limit_burst", "rate_limit_per_minute")  # fmt: skip
    readonly_fields = ("key", "merchant", "state", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # created from the merchant's page, where the key is shown once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the call log keeps pointing at the key

    @admin.display(description="Key", ordering="prefix")
    def key(self, obj: ApiKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="State", ordering="revoked_at")
    def state(self, obj: ApiKey) -> str:
        return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}" if obj.revoked_at else "active"
