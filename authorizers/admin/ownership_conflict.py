"""Ownership conflicts: an active account authorized through another merchant's invite.

The account stayed with its owner (SPEC section 9); operators decide here whether it goes to
the claimant ("Transfer to the claiming merchant") or the claim is dismissed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from authorizers.services.onboarding.ownership import (
    OwnershipConflictStale,
    ownership_conflict_dismiss,
    ownership_conflict_transfer,
)

from ..models import OwnershipConflict


@admin.register(OwnershipConflict)
class OwnershipConflictAdmin(admin.ModelAdmin):
    list_display = ("authorizer", "appid", "current_owner", "claimant", "created_at", "resolution")
    list_filter = ("resolution",)
    list_select_related = ("authorizer__merchant", "claimant")
    actions = ["transfer_to_claimant", "dismiss"]
    readonly_fields = (
        "authorizer", "claimant", "owner", "created_at", "resolved_at", "resolution"
    )  # fmt: skip

    @admin.display(description="appid")
    def appid(self, obj: OwnershipConflict) -> str:
        return obj.authorizer.appid

    @admin.display(description="current owner")
    def current_owner(self, obj: OwnershipConflict) -> str:
        return str(obj.authorizer.merchant)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Transfer to the claiming merchant", permissions=["change"])
    def transfer_to_claimant(self, request: HttpRequest, queryset: QuerySet):
        open_claims = queryset.filter(resolved_at=None).select_related(
            "authorizer__merchant", "claimant"
        )
        if request.POST.get("confirm") != "yes":
            # The owner loses the account (its API calls get 404): name both sides, then ask.
            context = {
                **self.admin_site.each_context(request),
                "title": "Transfer accounts to the claiming merchant?",
                "opts": self.model._meta,
                "conflicts": open_claims,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/authorizers/ownershipconflict/confirm_transfer.html", context
            )
        for conflict in open_claims:
            try:
                account = ownership_conflict_transfer(conflict_id=conflict.pk)
            except OwnershipConflictStale as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                f"{account} now belongs to {conflict.claimant}; its previous merchant no longer "
                "sees it.",
                messages.SUCCESS,
            )
        return None

    @admin.action(description="Dismiss the claim (the account stays)", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        for conflict in queryset.filter(resolved_at=None):
            ownership_conflict_dismiss(conflict_id=conflict.pk)
        self.message_user(request, "Claims dismissed.", messages.SUCCESS)
