"""Service clients (create with the key shown once, revoke) and the loan log (filterable)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.admin_base import ReadOnlyAdmin
from core.fields import decrypt_value, encrypt_value

from .clients import service_client_key_issue, service_client_revoke
from .models import ServiceClient, TokenLoan

_SESSION_KEY = "admin_new_service_client_key"


@admin.action(description="Revoke the selected service clients")
def revoke_clients(modeladmin, request, queryset):
    for client in queryset.filter(revoked_at__isnull=True):
        service_client_revoke(client=client)
    messages.success(request, "Revoked; their keys fail on the next request.")


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ServiceClient)
class ServiceClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "scope", "created_at", "last_used_at", "state")
    list_filter = (RevokedFilter, "all_accounts")
    search_fields = ("name", "prefix")
    actions = (revoke_clients,)
    filter_horizontal = ("merchants",)
    fields = ("name", "all_accounts", "merchants", "rate_limit_burst", "rate_limit_per_minute",
              "key", "state", "created_at", "last_used_at")  # fmt: skip
    readonly_fields = ("key", "state", "created_at", "last_used_at")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the loan log keeps pointing at the client

    @admin.display(description="Key", ordering="prefix")
    def key(self, obj: ServiceClient) -> str:
        return f"{obj.prefix}…" if obj.prefix else "(issued when saved)"

    @admin.display(description="Scope")
    def scope(self, obj: ServiceClient) -> str:
        if obj.all_accounts:
            return "all accounts"
        return ", ".join(m.name for m in obj.merchants.all()) or "no account"

    @admin.display(description="State", ordering="revoked_at")
    def state(self, obj: ServiceClient) -> str:
        return f"revoked {obj.revoked_at:%Y-%m-%d %H:%M}" if obj.revoked_at else "active"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        raw_key = service_client_key_issue(client=obj)
        # Encrypted in the session until the page after the redirect pops it: shown once.
        request.session[_SESSION_KEY] = {"id": obj.pk, "key": encrypt_value(raw_key)}

    def response_add(self, request, obj, post_url_continue=None):
        return HttpResponseRedirect(
            reverse("admin:token_center_serviceclient_created", args=[obj.pk])
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:client_id>/created/",
                wrap(self.created_view),
                name="token_center_serviceclient_created",
            ),
            *super().get_urls(),
        ]

    def created_view(self, request: HttpRequest, client_id: int) -> HttpResponse:
        client = get_object_or_404(ServiceClient, pk=client_id)
        pending = request.session.get(_SESSION_KEY)
        raw_key = None
        if isinstance(pending, dict) and pending.get("id") == client.pk:
            raw_key = decrypt_value(pending["key"])
            del request.session[_SESSION_KEY]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Your new service client key" if raw_key else "Key already shown",
            "client": client,
            "raw_key": raw_key,
            "client_url": reverse("admin:token_center_serviceclient_change", args=[client.pk]),
        }
        return TemplateResponse(request, "admin/token_center/serviceclient/created.html", context)


@admin.register(TokenLoan)
class TokenLoanAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "client", "authorizer_appid", "kind", "outcome", "status_code")
    list_filter = ("kind", "outcome", "client", "status_code")
    search_fields = ("authorizer_appid", "client__name")
    list_select_related = ("client",)
    date_hierarchy = "created_at"
