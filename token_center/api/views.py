"""/internal/v1/: the token center's endpoints (SPEC 12). Each view parses, calls one service
of token_center.loans and shapes its answer; the base view authenticates the service client,
charges its own rate-limit bucket and writes the loan log row."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from component.services.token import ComponentTicketMissing
from merchant_api import errors as api
from merchant_api.ratelimit import limits_for, rate_limit_take_from
from merchant_api.schema import RETRY_AFTER_HEADER, error_responses

from ..audit import token_loan_record
from ..authentication import ServiceClientAuthentication, ServicePrincipal
from ..loans import (
    ComponentOutOfScope,
    Loan,
    LoanTarget,
    authorizer_token_lend,
    authorizer_token_report,
    component_token_lend,
    component_token_report,
)

TAG = "token center"
_AUTH_ERRORS = (api.Unauthenticated, api.RateLimited)


class ServiceClientRateThrottle:
    """One token per request from the client's own bucket (never a merchant key's)."""

    def allow_request(self, request, view) -> bool:
        principal: ServicePrincipal = request.user
        limits = limits_for(principal)
        bucket = cache.make_key(f"tc:ratelimit:{principal.client_id}")
        decision = rate_limit_take_from(bucket=bucket, limits=limits)
        if not decision.allowed:
            raise api.RateLimited(
                f"This service client's rate limit ({limits.burst} burst, "
                f"{limits.per_minute} a minute) is used up.",
                retry_after=math.ceil(decision.retry_after),
            )
        return True


class StrictCharField(serializers.CharField):
    """A JSON string only: a number is not a token."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RefusedTokenSerializer(serializers.Serializer):
    access_token = StrictCharField(
        max_length=512, help_text="The token WeChat refused (errcode 40001, 40014 or 42001)."
    )


def _loan_out(loan: Loan, **ids: str) -> dict:
    return {**ids, "access_token": loan.access_token, "expires_at": loan.expires_at.isoformat()}


def _loan_serializer(name: str, id_field: str):
    """Built once per name: drf-spectacular refuses two components of one name."""
    return inline_serializer(
        name,
        {
            id_field: serializers.CharField(),
            "access_token": serializers.CharField(),
            "expires_at": serializers.DateTimeField(
                help_text="Use the token until then (cache it); ask again after."
            ),
        },
    )


class TokenCenterView(APIView):
    authentication_classes = [ServiceClientAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ServiceClientRateThrottle]
    kind = "loan"

    def permission_denied(self, request, message=None, code=None):
        raise api.Unauthenticated(
            "A valid service client key is required: send 'Authorization: Bearer <service key>'."
        )

    def initial(self, request, *args, **kwargs):
        request.loan_target = LoanTarget(kwargs.get("appid", ""))
        request.loan_outcome = None
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, ComponentOutOfScope):
            exc = api.NotFound("This service client's scope does not include the component token.")
        elif isinstance(exc, ComponentTicketMissing):
            exc = api.UpstreamUnavailable(str(exc), retry_after=60)
        return super().handle_exception(exc)

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        request = self.request
        principal = getattr(request, "_user", None)
        if isinstance(principal, ServicePrincipal):
            error = getattr(request, "api_error", None)
            if not (isinstance(error, api.RateLimited) and error.wechat_errcode is None):
                target = request.loan_target
                token_loan_record(
                    client_id=principal.client_id,
                    kind=self.kind,
                    appid=target.appid,
                    authorizer_id=target.authorizer_id,
                    outcome=error.code if error else (request.loan_outcome or "ok"),
                    status_code=response.status_code,
                )
        return response

    def refused_token(self, request) -> str:
        serializer = RefusedTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["access_token"]


AUTHORIZER_LOAN = _loan_serializer("AuthorizerTokenLoan", "appid")
COMPONENT_LOAN = _loan_serializer("ComponentTokenLoan", "component_appid")

_ACCOUNT_ERRORS = (*_AUTH_ERRORS, api.NotFound, api.AuthorizerRevoked, api.UpstreamUnavailable,
                   api.UpstreamError)  # fmt: skip


class AuthorizerTokenView(TokenCenterView):
    @extend_schema(
        operation_id="internal_authorizer_access_token",
        tags=[TAG],
        summary="Borrow an account's authorizer_access_token",
        description=(
            "The stored token and when it expires. Cache it until `expires_at`; report it to "
            "`.../invalid` if WeChat refuses it. Never call api_authorizer_token yourself. "
            "410 for a stopped account, 404 for an unknown one or one outside the client's scope."
        ),
        parameters=[RETRY_AFTER_HEADER],
        responses={
            200: AUTHORIZER_LOAN,
            **error_responses(*_ACCOUNT_ERRORS),
        },
    )
    def get(self, request, appid: str):
        loan = authorizer_token_lend(
            principal=request.user, appid=appid, target=request.loan_target
        )
        request.loan_outcome = loan.outcome
        return Response(_loan_out(loan, appid=appid))


class AuthorizerTokenInvalidView(TokenCenterView):
    kind = "report"

    @extend_schema(
        operation_id="internal_authorizer_access_token_invalid",
        tags=[TAG],
        summary="Report an authorizer_access_token WeChat refused; get the current one",
        description=(
            "If the refused token is still the stored one, it is refreshed (once, however many "
            "clients report it) and the new one returned; if a newer one is stored, that one, "
            "without calling WeChat."
        ),
        request=RefusedTokenSerializer,
        parameters=[RETRY_AFTER_HEADER],
        responses={
            200: AUTHORIZER_LOAN,
            **error_responses(api.InvalidRequest, *_ACCOUNT_ERRORS),
        },
    )
    def post(self, request, appid: str):
        refused = self.refused_token(request)
        loan = authorizer_token_report(
            principal=request.user, appid=appid, refused=refused, target=request.loan_target
        )
        request.loan_outcome = loan.outcome
        return Response(_loan_out(loan, appid=appid))


_COMPONENT_ERRORS = (*_AUTH_ERRORS, api.NotFound, api.UpstreamUnavailable, api.UpstreamError)


def _component_appid() -> str:
    return settings.WECHAT_COMPONENT_APPID


class ComponentTokenView(TokenCenterView):
    @extend_schema(
        operation_id="internal_component_access_token",
        tags=[TAG],
        summary="Borrow the component_access_token",
        description=(
            "For clients scoped to every account (404 otherwise). Cache it until `expires_at`."
        ),
        parameters=[RETRY_AFTER_HEADER],
        responses={
            200: COMPONENT_LOAN,
            **error_responses(*_COMPONENT_ERRORS),
        },
    )
    def get(self, request):
        loan = component_token_lend(principal=request.user)
        request.loan_outcome = loan.outcome
        return Response(_loan_out(loan, component_appid=_component_appid()))


class ComponentTokenInvalidView(TokenCenterView):
    kind = "report"

    @extend_schema(
        operation_id="internal_component_access_token_invalid",
        tags=[TAG],
        summary="Report a component_access_token WeChat refused; get the current one",
        description=(
            "As for an account's token: the stored one refused → replaced once, however many "
            "clients report it; an older one → the current one, without calling WeChat."
        ),
        request=RefusedTokenSerializer,
        parameters=[RETRY_AFTER_HEADER],
        responses={
            200: COMPONENT_LOAN,
            **error_responses(api.InvalidRequest, *_COMPONENT_ERRORS),
        },
    )
    def post(self, request):
        loan = component_token_report(principal=request.user, refused=self.refused_token(request))
        request.loan_outcome = loan.outcome
        return Response(_loan_out(loan, component_appid=_component_appid()))
