"""The merchant's own accounts (SPEC 4.3): what each granted, and what it can be used for."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authorizers.account_type import authorizer_verified
from authorizers.capabilities import capabilities_evaluate
from authorizers.models import Authorizer
from authorizers.selectors.tenant import authorizer_page_for_merchant
from authorizers.services.quota.readings import authorizer_quota_list

from . import errors as api
from .schema import RETRY_AFTER_HEADER, error_responses
from .views import MerchantApiView

_ACCOUNT_TYPES = {
    Authorizer.ServiceType.SUBSCRIPTION: "subscription",
    Authorizer.ServiceType.SUBSCRIPTION_UPGRADED: "subscription",
    Authorizer.ServiceType.SERVICE: "service",
}


class CapabilitySerializer(serializers.Serializer):
    usable = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why not, in a merchant's words; empty when usable.")


class AuthorizerSerializer(serializers.Serializer):
    appid = serializers.CharField()
    nickname = serializers.CharField()
    account_type = serializers.ChoiceField(
        choices=["service", "subscription"],
        allow_null=True,
        help_text="null until WeChat told us the account's type.",
    )
    verified = serializers.BooleanField(
        allow_null=True, help_text="WeChat verification; null until known."
    )
    permission_sets = serializers.ListField(
        child=serializers.IntegerField(), help_text="Permission set ids the account granted."
    )
    status = serializers.ChoiceField(choices=Authorizer.Status.values)
    capabilities = serializers.DictField(
        child=CapabilitySerializer(), help_text='Per capability, e.g. "user_tags".'
    )


def _authorizer_out(authorizer: Authorizer) -> dict:
    return {
        "appid": authorizer.appid,
        "nickname": authorizer.nickname,
        "account_type": _ACCOUNT_TYPES.get(authorizer.service_type),
        "verified": authorizer_verified(authorizer),
        "permission_sets": sorted(authorizer.permission_sets or []),
        "status": authorizer.status,
        "capabilities": {
            name: {"usable": status.usable, "reason": status.reason}
            for name, status in capabilities_evaluate(authorizer).items()
        },
    }


_ERRORS = (api.Unauthenticated, api.RateLimited)

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 500


def cursor_encode(last_id: int) -> str:
    """Opaque to clients: where the next page starts (after this id)."""
    return base64.urlsafe_b64encode(f"a{last_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if text[:1] != "a" or not text[1:].isdigit() or len(text) > 20:
            raise ValueError
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise api.InvalidRequest("cursor: Use the `next` link of the previous page.") from None


def _page_size(raw: str | None) -> int:
    if raw is None:
        return PAGE_SIZE_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX:
        raise api.InvalidRequest(f"limit: A whole number from 1 to {PAGE_SIZE_MAX}.")
    return int(raw)


class AuthorizerListView(MerchantApiView):
    endpoint = "authorizer_list"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthorizerList"

        authorizers = AuthorizerSerializer(many=True)
        next = serializers.URLField(
            allow_null=True,
            help_text="The next page's URL (same `limit`); null on the last page.",
        )

    @extend_schema(
        operation_id="authorizers_list",
        summary="Your authorized accounts, a page at a time",
        description=(
            "The Official Accounts authorized to the platform through your invites, with their "
            "status, the permission sets they granted and, per capability, whether they can be "
            "used and why not. In a stable order (oldest first), at most `limit` per page; "
            "follow `next` until it is null to read them all. An account added while you page "
            "appears on a later page; none is listed twice."
        ),
        parameters=[
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=(
                    f"Accounts per page, 1 to {PAGE_SIZE_MAX} (default {PAGE_SIZE_DEFAULT})."
                ),
            ),
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                description="Opaque: taken from the previous page's `next` link.",
            ),
            RETRY_AFTER_HEADER,
        ],
        responses={200: OutputSerializer, **error_responses(*_ERRORS, api.InvalidRequest)},
    )
    def get(self, request):
        limit = _page_size(request.query_params.get("limit"))
        cursor = request.query_params.get("cursor")
        after_id = cursor_decode(cursor) if cursor is not None else None
        authorizers, more = authorizer_page_for_merchant(
            merchant_id=self.principal.merchant_id, after_id=after_id, limit=limit
        )
        next_url = None
        if more:
            query = urlencode({"limit": limit, "cursor": cursor_encode(authorizers[-1].pk)})
            next_url = request.build_absolute_uri(f"{request.path}?{query}")
        return Response(
            {"authorizers": [_authorizer_out(a) for a in authorizers], "next": next_url}
        )


class AuthorizerDetailView(MerchantApiView):
    endpoint = "authorizer_detail"

    @extend_schema(
        operation_id="authorizers_retrieve",
        summary="One of your authorized accounts",
        description=(
            "One account by its appid, as the list shows it; 404 for an appid that is not one "
            "of your accounts."
        ),
        parameters=[RETRY_AFTER_HEADER],
        responses={200: AuthorizerSerializer, **error_responses(*_ERRORS, api.NotFound)},
    )
    def get(self, request, appid: str):
        authorizer = self.authorizer(appid)
        request.call.authorizer_id, request.call.authorizer_appid = authorizer.pk, appid
        return Response(_authorizer_out(authorizer))


class ApiQuotaSerializer(serializers.Serializer):
    api = serializers.CharField(help_text='A WeChat API path, e.g. "/cgi-bin/tags/getidlist".')
    daily_limit = serializers.IntegerField()
    used = serializers.IntegerField()
    remain = serializers.IntegerField()
    checked_at = serializers.DateTimeField(help_text="When WeChat was asked (cached briefly).")


class AuthorizerQuotaView(MerchantApiView):
    """The account's own daily WeChat quota for each API our capabilities call on its behalf."""

    endpoint = "authorizer_quota"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthorizerQuota"

        apis = ApiQuotaSerializer(many=True)

    @extend_schema(
        operation_id="authorizers_quota",
        summary="What is left of the account's WeChat quota today",
        parameters=[RETRY_AFTER_HEADER],
        responses={
            200: OutputSerializer,
            **error_responses(
                *_ERRORS,
                api.NotFound,
                api.AuthorizerRevoked,
                api.UpstreamUnavailable,
                api.UpstreamError,
            ),
        },
    )
    def get(self, request, appid: str):
        authorizer = self.authorizer(appid)
        request.call.authorizer_id, request.call.authorizer_appid = authorizer.pk, appid
        quotas = authorizer_quota_list(authorizer=authorizer)
        return Response(self.OutputSerializer({"apis": [asdict(q) for q in quotas]}).data)
