"""The merchant API call log: read-only. Openids arrive here already masked."""

from __future__ import annotations

from django.contrib import admin

from platform_app.admin_base import ReadOnlyAdmin

from ..models import ApiCall


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "merchant", "authorizer_appid", "endpoint", "result",
                    "status_code", "wechat_errcode", "rid", "latency", "openid_masked",
                    "item_count")  # fmt: skip
    list_filter = ("result", "merchant", "created_at", "endpoint")
    date_hierarchy = "created_at"
    search_fields = ("authorizer_appid", "rid", "openid_masked")
    list_select_related = ("merchant",)
    exclude = ("api_key",)
    readonly_fields = ("key",)
    show_full_result_count = False

    @admin.display(description="Latency", ordering="latency_ms")
    def latency(self, obj: ApiCall) -> str:
        return f"{obj.latency_ms} ms"

    @admin.display(description="API key")
    def key(self, obj: ApiCall) -> str:
        return f"{obj.api_key.prefix}…" if obj.api_key else "—"
