"""Authorizer accounts: health at a glance, three actions, and each account's recent history.

Everything is read-only here: accounts come from onboarding and WeChat, and change through
services. The token fields are excluded from every form, so they are never rendered.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from authorizers.operators_site.labels import (
    account_type_label,
    capability_cell,
    humanize_until,
    permission_set_badges,
    status_label,
    verified_label,
)
from authorizers.services.quota.readings import QUOTA_RESETS_PER_MONTH, authorizer_quota_resets_used
from core.db_scale import EstimatedCountPaginator

from ..capabilities import Capability, capabilities_registered
from ..models import Authorizer
from ..selectors.dashboard import (
    authorizer_quota_readings,
    authorizer_recent_api_calls,
    authorizer_recent_events,
    authorizer_search_q,
    ownership_conflict_list_open_for,
)
from .authorizer_actions import (
    check_quota,
    mark_revoked,
    refresh_token_now,
    reset_quota,
    sync_info,
)
from .filters import EligibilityFilter

SECRET_FIELDS = ("access_token", "refresh_token")


def _capability_column(capability: Capability):
    def column(obj: Authorizer):
        return capability_cell(obj, capability)

    column.short_description = f"Can {capability.action or 'use ' + capability.title}"
    column.__name__ = f"capability_{capability.name}"
    return column


@admin.register(Authorizer)
class AuthorizerAdmin(admin.ModelAdmin):
    # Nickname and appid share a cell, type and verification too: at 1280 px the columns
    # operators decide by (sets, eligibility, token, status) stay on screen.
    list_display_head = ("name_and_appid", "merchant", "account_type_verified", "sets")
    list_display_tail = ("token_expires_in", "display_status")
    list_display_links = ("name_and_appid",)
    # No merchant filter in the sidebar: it would list every merchant on every page. The
    # merchant's page links here with ?merchant__id__exact=<id>, which still filters.
    list_filter = ("status", EligibilityFilter)
    ordering = ("merchant_id", "id")  # the (merchant, id) index's order: no sort of every row
    search_fields = ("appid", "nickname")
    search_help_text = "The start of an appid, or a word of the nickname."
    list_select_related = ("merchant",)
    list_per_page = 50
    # A million accounts: no second count of the whole table, and an estimate above a few
    # thousand rows instead of a count that reads them all.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = (refresh_token_now, sync_info, check_quota, reset_quota, mark_revoked)
    exclude = SECRET_FIELDS
    change_form_template = "admin/authorizers/authorizer/change_form.html"
    fieldsets = (
        ("Account", {"fields": ("nickname", "appid", "merchant", "ownership", "principal_name",
                                "user_name", "alias", "account_type", "verified", "sets_named",
                                "capabilities")}),
        ("Status", {"fields": ("display_status", "authorized_at", "revoked_at", "info_synced_at")}),
        ("Access token", {"fields": ("token_expires_in", "access_token_expires_at",
                                     "token_version", "last_refreshed_at", "last_refresh_error")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )  # fmt: skip

    @admin.display(description="ownership")
    def ownership(self, obj: Authorizer) -> str:
        if obj.merchant.is_holding:
            return (
                "Waiting for a merchant: found by import, or authorized without one of our "
                "invites. The merchant whose invite authorizes it next gets it."
            )
        return (
            "Belongs to the merchant whose invite authorized it. Authorized through another "
            "merchant's invite, it moves there only while revoked or needing re-authorization; "
            "while active it stays, and the claim appears under Ownership conflicts."
        )

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*SECRET_FIELDS)  # never shown: not decrypted

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(authorizer_search_q(term)), False

    def get_list_display(self, request):
        columns = [_capability_column(c) for c in capabilities_registered()]
        return (*self.list_display_head, *columns, *self.list_display_tail)

    def get_readonly_fields(self, request, obj=None):
        names = [f for fs in self.fieldsets for f in fs[1]["fields"]]
        return [n for n in names if n not in SECRET_FIELDS]

    def has_add_permission(self, request):
        return False  # accounts arrive through onboarding or `manage.py sync_authorizers`

    def has_delete_permission(self, request, obj=None):
        return False  # the refresh token cannot be recovered: mark revoked instead

    def changelist_view(self, request, extra_context=None):
        extra = {"title": "Authorized Official Accounts"} | (extra_context or {})
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        authorizer = self.get_object(request, object_id)
        extra = {"show_save": False, "show_save_and_continue": False}
        if authorizer is not None:
            extra |= {
                "recent_calls": authorizer_recent_api_calls(authorizer=authorizer),
                "recent_events": authorizer_recent_events(authorizer=authorizer),
                "open_claims": ownership_conflict_list_open_for(authorizer=authorizer),
                "quota_readings": authorizer_quota_readings(authorizer=authorizer),
                "quota_resets_used": authorizer_quota_resets_used(authorizer),
                "quota_resets_limit": QUOTA_RESETS_PER_MONTH,
                "quota_stops": sorted((authorizer.quota_stops or {}).items()),
                "object_actions": [(a.__name__, a.short_description) for a in self.actions],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
        return super().change_view(request, object_id, form_url, extra | (extra_context or {}))

    def response_action(self, request, queryset):
        """Actions started from an account's page return to that page (`_next`)."""
        response = super().response_action(request, queryset)
        target = request.POST.get("_next", "")
        safe = url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        if isinstance(response, HttpResponseRedirect) and target and safe:
            return HttpResponseRedirect(target)
        return response

    @admin.display(description="Nickname · appid", ordering="nickname")
    def name_and_appid(self, obj: Authorizer):
        name = obj.nickname or "(not synced yet)"
        return format_html('{}<span class="wxt-appid">{}</span>', name, obj.appid)

    @admin.display(description="Type", ordering="service_type")
    def account_type_verified(self, obj: Authorizer) -> str:
        return f"{account_type_label(obj)} · {verified_label(obj)}"

    @admin.display(description="Account type", ordering="service_type")
    def account_type(self, obj: Authorizer) -> str:
        return account_type_label(obj)

    @admin.display(description="Verified", ordering="verify_type")
    def verified(self, obj: Authorizer) -> str:
        return verified_label(obj)

    @admin.display(description="Permission sets")
    def sets(self, obj: Authorizer):
        # The list names only the sets a capability needs; the others by number (hover: name).
        return permission_set_badges(obj.permission_sets, compact=True)

    @admin.display(description="Permission sets")
    def sets_named(self, obj: Authorizer):
        return permission_set_badges(obj.permission_sets)

    @admin.display(description="Capabilities")
    def capabilities(self, obj: Authorizer):
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            ((c.title, capability_cell(obj, c)) for c in capabilities_registered()),
        )

    @admin.display(description="Token expires", ordering="access_token_expires_at")
    def token_expires_in(self, obj: Authorizer) -> str:
        if obj.status != Authorizer.Status.ACTIVE:
            return "— (stopped)"
        return humanize_until(obj.access_token_expires_at)

    @admin.display(description="Status", ordering="status")
    def display_status(self, obj: Authorizer):
        return status_label(obj)
