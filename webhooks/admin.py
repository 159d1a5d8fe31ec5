"""Webhook endpoints and deliveries for operators (SPEC 11): status, attempts, last answer,
next attempt; replay, disable, rotate and test actions. A secret is shown once, in the message
after it was made, and never again (no form shows the stored value)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin_base import ReadOnlyAdmin

from .models import WebhookDelivery, WebhookEndpoint
from .services.endpoints import (
    EVENT_TYPES,
    WebhookInvalid,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_rotate,
    webhook_test_send,
)
from .tasks import deliveries_enqueue


class EndpointAddForm(forms.ModelForm):
    url = forms.CharField(max_length=500, help_text="https:// only; no private addresses.")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all events.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("merchant", "url", "events")

    def clean(self):
        data = super().clean()
        self.endpoint = None
        if self.errors:
            return data
        try:
            # Registered here, so the service's rules (targets, the limit) decide.
            self.endpoint = webhook_endpoint_create(
                merchant_id=data["merchant"].pk, url=data["url"], events=data.get("events")
            )
        except WebhookInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "merchant", "enabled", "disabled_reason", "event_list", "created_at")
    list_filter = ("enabled",)
    list_select_related = ("merchant",)
    search_fields = ("url", "merchant__name")
    readonly_fields = ("merchant", "url", "events", "enabled", "disabled_reason", "created_at")
    exclude = ("secret", "previous_secret", "previous_secret_expires_at")
    actions = ["send_test", "rotate_secret", "disable"]

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events) or "all"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = EndpointAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_exclude(self, request, obj=None):
        return self.exclude

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return  # nothing is edited by hand
        endpoint = form.endpoint
        obj.pk = endpoint.pk
        messages.warning(
            request,
            f"Signing secret, shown this once (give it to the merchant): {endpoint.secret}",
        )

    def save_related(self, request, form, formsets, change) -> None:
        pass

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description="Send a webhook.test event", permissions=["view"])
    def send_test(self, request: HttpRequest, queryset: QuerySet) -> None:
        sent = []
        for endpoint in queryset:
            try:
                sent.append(webhook_test_send(endpoint=endpoint).pk)
            except WebhookInvalid as exc:
                messages.error(request, f"{endpoint.url}: {exc}")
        transaction.on_commit(lambda: deliveries_enqueue(sent))
        messages.success(request, f"{len(sent)} test event(s) queued.")

    @admin.action(description="Rotate the signing secret (old one signs 24 h more)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> None:
        for endpoint in queryset:
            rotated = webhook_endpoint_rotate(endpoint_id=endpoint.pk)
            messages.warning(
                request, f"{rotated.url}: new secret, shown this once: {rotated.secret}"
            )

    @admin.action(description="Disable (no more deliveries)")
    def disable(self, request: HttpRequest, queryset: QuerySet) -> None:
        for endpoint in queryset:
            webhook_endpoint_disable(endpoint_id=endpoint.pk, reason="disabled by an operator")
        messages.success(request, f"{queryset.count()} endpoint(s) disabled.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "msg_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("msg_id", "endpoint__url")
    exclude = ("body",)
    actions = ["replay"]

    @admin.action(description="Replay (failed deliveries only)", permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet) -> None:
        replayed = []
        for delivery in queryset:
            try:
                replayed.append(webhook_delivery_replay(delivery=delivery).pk)
            except WebhookInvalid as exc:
                messages.error(request, f"{delivery.msg_id}: {exc}")
        transaction.on_commit(lambda: deliveries_enqueue(replayed))
        if replayed:
            messages.success(request, f"{len(replayed)} delivery(ies) queued again.")
