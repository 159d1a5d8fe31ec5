"""The component's credentials and event log for operators: ages and expiries, never values."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from core.admin_base import ReadOnlyAdmin, indexed_values_filter
from core.db_scale import EstimatedCountPaginator

from .models import ComponentEvent, ComponentState
from .services.token import component_ticket_expired

# Keys a push may carry that are credentials; the receiver drops them, this is a second guard.
_SECRET_PAYLOAD_KEYS = {"componentverifyticket", "authorizationcode", "preauthcode"}


@admin.register(ComponentState)
class ComponentStateAdmin(ReadOnlyAdmin):
    list_display = ("component_appid", "ticket_age", "token_expiry", "updated_at")
    fields = ("component_appid", "ticket_age", "ticket_received_at", "token_expiry",
              "access_token_expires_at", "access_token_fetched_at", "updated_at")  # fmt: skip
    readonly_fields = fields
    exclude = ("verify_ticket", "access_token")

    @admin.display(description="Verify ticket")
    def ticket_age(self, obj: ComponentState) -> str:
        if obj.ticket_received_at is None:
            return "none received yet"
        state = (
            "expired" if component_ticket_expired(received_at=obj.ticket_received_at) else "valid"
        )
        return f"received {timesince(obj.ticket_received_at)} ago ({state})"

    @admin.display(description="Access token")
    def token_expiry(self, obj: ComponentState) -> str:
        expires_at = obj.access_token_expires_at
        if expires_at is None:
            return "not fetched yet"
        if expires_at <= timezone.now():
            return f"expired {timesince(expires_at)} ago"
        return f"expires in {timeuntil(expires_at)}"


def _redacted(payload: object) -> object:
    if isinstance(payload, dict):
        return {
            k: "(hidden)" if str(k).lower() in _SECRET_PAYLOAD_KEYS else _redacted(v)
            for k, v in payload.items()
        }
    return payload


@admin.register(ComponentEvent)
class ComponentEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "info_type", "authorizer_appid", "status", "applied_at",
                    "replays", "short_error")  # fmt: skip
    # Filters, search and counts that stay index reads on a long log (no date hierarchy:
    # its links are DISTINCTs over every event).
    list_filter = (indexed_values_filter("info_type", "info type"), "status", "received_at")
    search_fields = ("=authorizer_appid",)
    search_help_text = "An account's appid, exactly."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ("info_type", "authorizer_appid", "status", "create_time", "received_at",
              "applied_at", "replays", "error", "payload_")  # fmt: skip
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(authorizer_appid=term) if term else queryset), False

    @admin.display(description="Error")
    def short_error(self, obj: ComponentEvent) -> str:
        return obj.error[:80]

    @admin.display(description="Payload")
    def payload_(self, obj: ComponentEvent):
        text = json.dumps(_redacted(obj.payload), indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", text)
