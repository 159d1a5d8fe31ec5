"""The merchant API's webhook endpoints (SPEC 11)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from merchant_api import errors as api
from merchant_api.schema import error_responses
from merchant_api.views import MerchantApiView

from ..models import WebhookDelivery, WebhookEndpoint
from ..selectors import (
    WebhookNotFound,
    webhook_deliveries_recent,
    webhook_delivery_get,
    webhook_endpoint_get_for_merchant,
    webhook_endpoints_for_merchant,
)
from ..services.endpoints import (
    EVENT_TYPES,
    WebhookInvalid,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate,
    webhook_test_send,
)
from ..tasks import deliveries_enqueue

_ERRORS = (api.Unauthenticated, api.RateLimited)
_ONE = (*_ERRORS, api.NotFound)


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        help_text="The event types sent to it; empty: all.",
    )
    enabled = serializers.BooleanField(help_text="false once it answered 410 Gone.")
    created_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="whsec_...: shown in this answer only.")


class EndpointListSerializer(serializers.Serializer):
    webhooks = EndpointSerializer(many=True)


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="https:// only; no private addresses.")
    events = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Optional: all when absent."
    )


class DeliverySerializer(serializers.Serializer):
    webhook_id = serializers.CharField(source="msg_id")
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.values)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class DeliveryListSerializer(serializers.Serializer):
    deliveries = DeliverySerializer(many=True)


def _endpoint_out(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict:
    out = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "enabled": endpoint.enabled,
        "created_at": endpoint.created_at,
    }
    if secret:
        out["secret"] = endpoint.secret
        return EndpointWithSecretSerializer(out).data
    return EndpointSerializer(out).data


class _WebhookView(MerchantApiView):
    """Where events about your accounts are sent (SPEC 11)."""

    def endpoint_get(self, endpoint_id: int) -> WebhookEndpoint:
        try:
            return webhook_endpoint_get_for_merchant(
                merchant_id=self.principal.merchant_id, endpoint_id=endpoint_id
            )
        except WebhookNotFound as exc:
            raise api.NotFound("No webhook endpoint with this id.") from exc


class WebhookEndpointListView(_WebhookView):
    endpoint = "webhook_list"

    @extend_schema(
        operation_id="webhooks_list",
        summary="Your webhook endpoints",
        description="Every endpoint you registered, without its secret.",
        responses={200: EndpointListSerializer, **error_responses(*_ERRORS)},
    )
    def get(self, request):
        endpoints = webhook_endpoints_for_merchant(merchant_id=self.principal.merchant_id)
        return Response({"webhooks": [_endpoint_out(e) for e in endpoints]})

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register a webhook endpoint",
        description=(
            "Events about your accounts are POSTed to the URL, signed as Standard Webhooks "
            "(https://www.standardwebhooks.com). The secret is in this answer only. At most "
            "10 endpoints."
        ),
        request=EndpointInputSerializer,
        responses={
            201: EndpointWithSecretSerializer,
            **error_responses(*_ERRORS, api.InvalidRequest),
        },
    )
    def post(self, request):
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint = webhook_endpoint_create(
                merchant_id=self.principal.merchant_id,
                url=data.validated_data["url"],
                events=data.validated_data.get("events"),
            )
        except WebhookInvalid as exc:
            raise api.InvalidRequest(str(exc)) from exc
        return Response(_endpoint_out(endpoint, secret=True), status=201)


class WebhookEndpointDetailView(_WebhookView):
    endpoint = "webhook_detail"

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="One webhook endpoint",
        description="One of your endpoints by id (404 for anyone else's), without its secret.",
        responses={200: EndpointSerializer, **error_responses(*_ONE)},
    )
    def get(self, request, endpoint_id: int):
        return Response(_endpoint_out(self.endpoint_get(endpoint_id)))

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete a webhook endpoint",
        description="Nothing more is sent to it; its deliveries are deleted with it.",
        responses={204: None, **error_responses(*_ONE)},
    )
    def delete(self, request, endpoint_id: int):
        webhook_endpoint_delete(endpoint=self.endpoint_get(endpoint_id))
        return Response(status=204)


class WebhookRotateSecretView(_WebhookView):
    endpoint = "webhook_rotate_secret"

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="A new signing secret",
        description="The old secret keeps signing beside the new one for 24 hours.",
        request=None,
        responses={200: EndpointWithSecretSerializer, **error_responses(*_ONE)},
    )
    def post(self, request, endpoint_id: int):
        endpoint = webhook_endpoint_rotate(endpoint_id=self.endpoint_get(endpoint_id).pk)
        return Response(_endpoint_out(endpoint, secret=True))


class WebhookTestView(_WebhookView):
    endpoint = "webhook_test"

    @extend_schema(
        operation_id="webhooks_test",
        summary="Send a webhook.test event",
        description="A `webhook.test` delivery to this endpoint, signed like every event.",
        request=None,
        responses={202: DeliverySerializer, **error_responses(*_ONE, api.InvalidRequest)},
    )
    def post(self, request, endpoint_id: int):
        endpoint = self.endpoint_get(endpoint_id)
        try:
            delivery = webhook_test_send(endpoint=endpoint)
        except WebhookInvalid as exc:
            raise api.InvalidRequest(str(exc)) from exc
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
        return Response(DeliverySerializer(delivery).data, status=202)


class WebhookDeliveriesView(_WebhookView):
    endpoint = "webhook_deliveries"

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="Recent deliveries to an endpoint (newest first, at most 100)",
        description=(
            "Each with its webhook-id, event type, status, attempts, last answer code and "
            "next attempt."
        ),
        responses={200: DeliveryListSerializer, **error_responses(*_ONE)},
    )
    def get(self, request, endpoint_id: int):
        endpoint = self.endpoint_get(endpoint_id)
        deliveries = webhook_deliveries_recent(endpoint_id=endpoint.pk)
        return Response({"deliveries": DeliverySerializer(deliveries, many=True).data})


class WebhookDeliveryReplayView(_WebhookView):
    endpoint = "webhook_delivery_replay"

    @extend_schema(
        operation_id="webhooks_delivery_replay",
        summary="Send a failed delivery again (same webhook-id)",
        description="Only a delivery whose attempts all failed; the attempts start over.",
        request=None,
        responses={202: DeliverySerializer, **error_responses(*_ONE, api.InvalidRequest)},
    )
    def post(self, request, endpoint_id: int, msg_id: str):
        endpoint = self.endpoint_get(endpoint_id)
        try:
            delivery = webhook_delivery_get(endpoint_id=endpoint.pk, msg_id=msg_id)
        except WebhookNotFound as exc:
            raise api.NotFound("No delivery with this webhook-id.") from exc
        try:
            delivery = webhook_delivery_replay(delivery=delivery)
        except WebhookInvalid as exc:
            raise api.InvalidRequest(str(exc)) from exc
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
        return Response(DeliverySerializer(delivery).data, status=202)
