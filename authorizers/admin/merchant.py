"""Merchants: their account counts (linked to the account list, never the accounts inline),
their API keys (create: shown once; revoke), their invite link."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from authorizers.operators_site.labels import humanize_age
from authorizers.services.onboarding.invites import invite_create, invite_url

from ..models import ApiKey, Authorizer, Merchant
from ..selectors.dashboard import authorizer_count_by_status
from .api_key_views import api_key_create_view, api_key_created_view, api_key_revoke_view


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    classes = ("wxt-readonly-inline",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _count_of(rows) -> Coalesce:
    """A merchant's rows of `rows`, counted in a subquery per merchant listed."""
    counted = (
        rows.filter(merchant=OuterRef("pk"))
        .order_by()
        .values("merchant")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class ApiKeyInline(_ReadOnlyInline):
    model = ApiKey
    fields = readonly_fields = ("prefix_", "name", "created_at", "last_used", "state")
    verbose_name_plural = "API keys (the key itself is shown only once, when created)"

    @admin.display(description="Key")
    def prefix_(self, obj: ApiKey):
        url = reverse("admin:authorizers_apikey_change", args=[obj.pk])
        return format_html('<a href="{}"><code>{}…</code></a>', url, obj.prefix)

    @admin.display(description="Last used")
    def last_used(self, obj: ApiKey) -> str:
        return humanize_age(obj.last_used_at) if obj.last_used_at else "never"

    @admin.display(description="State")
    def state(self, obj: ApiKey):
        if obj.is_revoked:
            return format_html(
                '<span class="wxt-no">revoked {}</span>', humanize_age(obj.revoked_at)
            )
        url = reverse("admin:authorizers_merchant_api_key_revoke", args=[obj.merchant_id, obj.pk])
        return format_html(
            '<span class="wxt-yes">active</span> <a class="wxt-revoke" href="{}">Revoke…</a>', url
        )


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "accounts", "active_keys", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fields = ("name", "is_active", "invite_link", "accounts_summary", "created_at")
    readonly_fields = ("invite_link", "accounts_summary", "created_at")
    inlines = (ApiKeyInline,)
    change_form_template = "admin/authorizers/merchant/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        # One count per merchant shown, each from the (merchant, id) index: a join of every
        # account with its merchant, grouped, costs a scan of the whole account table.
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_accounts=_count_of(Authorizer.objects.all()),
                n_active_keys=_count_of(ApiKey.objects.filter(revoked_at__isnull=True)),
            )
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:merchant_id>/api-keys/new/",
                wrap(lambda r, merchant_id: api_key_create_view(r, self, merchant_id)),
                name="authorizers_merchant_api_key_create",
            ),
            path(
                "<path:merchant_id>/api-keys/<int:key_id>/created/",
                wrap(lambda r, **kw: api_key_created_view(r, self, **kw)),
                name="authorizers_merchant_api_key_created",
            ),
            path(
                "<path:merchant_id>/api-keys/<int:key_id>/revoke/",
                wrap(lambda r, **kw: api_key_revoke_view(r, self, **kw)),
                name="authorizers_merchant_api_key_revoke",
            ),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        # An invite is a working link that hands an Official Account to this merchant: only
        # staff who may change the merchant get one, and the holding merchant takes none.
        fields = super().get_fields(request, obj)
        if obj is not None and (obj.is_holding or not self.has_change_permission(request, obj)):
            fields = [f for f in fields if f != "invite_link"]
        return fields

    def has_delete_permission(self, request, obj=None):
        """Only a merchant without accounts is deleted (its keys, invites and call log go
        with it). Accounts keep their merchant (PROTECT): their refresh tokens cannot be
        got back, so the change page says what to do instead of offering a dead end."""
        if obj is not None and (obj.is_holding or obj.authorizers.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # API keys and call-log rows cannot be deleted one by one in the admin (they are
        # records), which Django would report as missing permissions; they go with their
        # merchant, so only the protected accounts can stop a delete.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def change_view(self, request, object_id, form_url="", extra_context=None):
        merchant = self.get_object(request, object_id)
        extra = {}
        if merchant is not None and not self.has_delete_permission(request, merchant):
            extra["not_deletable_reason"] = (
                "This is the holding merchant for accounts waiting for an owner: it is never "
                "deleted."
                if merchant.is_holding
                else f"Not deletable while it has {merchant.authorizers.count()} authorized "
                "account(s): an account's refresh token cannot be recovered once deleted. "
                "Untick “Is active” to stop new invites, revoke its API keys below, and mark "
                "its accounts revoked on their pages."
            )
        return super().change_view(request, object_id, form_url, extra | (extra_context or {}))

    @admin.display(description="Accounts", ordering="n_accounts")
    def accounts(self, obj: Merchant) -> int:
        return obj.n_accounts

    @admin.display(description="Active API keys", ordering="n_active_keys")
    def active_keys(self, obj: Merchant) -> int:
        return obj.n_active_keys

    @admin.display(description="Authorized Official Accounts")
    def accounts_summary(self, obj: Merchant):
        if obj.pk is None:
            return "None yet."
        # Counts and a link, never the accounts themselves: a merchant may hold 10^5 of them.
        by_status = authorizer_count_by_status(merchant_id=obj.pk)
        url = reverse("admin:authorizers_authorizer_changelist")
        parts = format_html_join(
            " · ",
            '<a href="{}?merchant__id__exact={}&amp;status={}">{} {}</a>',
            (
                (url, obj.pk, value, by_status[value], label.lower())
                for value, label in Authorizer.Status.choices
            ),
        )
        return format_html(
            '<a id="merchant-accounts" href="{}?merchant__id__exact={}">{} accounts</a>: {}',
            url,
            obj.pk,
            sum(by_status.values()),
            parts,
        )

    @admin.display(description="Invite link")
    def invite_link(self, obj: Merchant):
        if obj.pk is None:
            return "Save the merchant first."
        url = invite_url(invite=invite_create(merchant=obj))
        days = settings.INVITE_MAX_AGE_SECONDS // 86400
        return format_html(
            '<input type="text" id="invite-link" class="vTextField wxt-copy-source wxt-wide" '
            'readonly value="{}"> <button type="button" class="button" '
            'data-copy-target="invite-link">Copy</button>'
            '<div class="help">Send this to the merchant: it opens a page with a button to '
            "WeChat's authorization page. Valid for {} days; a new one is made on each visit."
            "</div>",
            url,
            days,
        )
