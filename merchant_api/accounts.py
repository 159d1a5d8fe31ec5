"""The merchant's own accounts (SPEC 4.3): what each granted, and what it can be used for."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authorizers.account_type import authorizer_verified
from authorizers.capabilities import capabilities_evaluate
from authorizers.models import Authorizer
from authorizers.selectors.tenant import authorizer_list_for_merchant
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


class AuthorizerListView(MerchantApiView):
    endpoint = "authorizer_list"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthorizerList"

        authorizers = AuthorizerSerializer(many=True)

    @extend_schema(
        operation_id="authorizers_list",
        summary="Your authorized accounts",
        description=(
            "Every Official Account authorized to the platform through your invites, with its "
            "status, the permission sets it granted and, per capability, whether it can be "
            "used and why not."
        ),
        parameters=[RETRY_AFTER_HEADER],
        responses={200: OutputSerializer, **error_responses(*_ERRORS)},
    )
    def get(self, request):
        authorizers = authorizer_list_for_merchant(merchant_id=self.principal.merchant_id)
        return Response({"authorizers": [_authorizer_out(a) for a in authorizers]})


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
