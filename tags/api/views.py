"""The merchant API's tag lookups (SPEC 4.3): one openid, or up to 1,000 at once."""

from __future__ import annotations

import re

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from authorizers.selectors.tenant import authorizer_get_for_merchant
from merchant_api import errors as api
from merchant_api.authentication import ApiPrincipal
from merchant_api.call_log import CallContext
from merchant_api.exceptions import api_error_from
from merchant_api.ratelimit import rate_limit_charge
from merchant_api.schema import (
    RETRY_AFTER_HEADER,
    ErrorDetailSerializer,
    error_responses,
    tag_name_serializer,
)
from merchant_api.views import MerchantApiView

from ..services import tag_names_get, user_tagids_get, user_tagids_get_bulk

# WeChat's openids are 28 characters today; SPEC 4.3 allows 20 to 64 of these.
OPENID_REGEX = r"^[A-Za-z0-9_-]{20,64}$"
OPENID_RULE = "20 to 64 letters, digits, '-' or '_'"
_OPENID = re.compile(OPENID_REGEX)
BULK_MAX = 1000

_LOOKUP_ERRORS = (
    api.InvalidRequest,
    api.Unauthenticated,
    api.NotFound,
    api.PermissionNotGranted,
    api.AccountNotEligible,
    api.AuthorizerRevoked,
    api.InvalidOpenid,
    api.OpenidAppidMismatch,
    api.RateLimited,
    api.UpstreamUnavailable,
    api.UpstreamError,
)


class _OpenidField(serializers.RegexField):
    """Strict: a JSON string as sent, no coercion of numbers, no trimming of whitespace."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _OPENID.fullmatch(data):
            self.fail("invalid")
        return data


def _openid_field(**kwargs) -> serializers.RegexField:
    return _OpenidField(
        OPENID_REGEX, error_messages={"invalid": f"An openid is {OPENID_RULE}."}, **kwargs
    )


class BulkResultSerializer(serializers.Serializer):
    openid = serializers.CharField()
    tagid_list = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="When the lookup worked."
    )
    error = ErrorDetailSerializer(required=False, help_text="When it did not.")


class UserTagsView(MerchantApiView):
    """The hot path. Its GET is served by the plain view of tags/api/urls.py through
    user_tags_body; this class answers the other methods and Accepts and is the OpenAPI
    document's source. Parameters are checked with a compiled pattern and the answer is built
    directly: DRF serializers would cost more per request than everything else the lookup
    does (the OutputSerializer below documents the answer)."""

    endpoint = "user_tags"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserTags"

        openid = serializers.CharField()
        tagid_list = serializers.ListField(child=serializers.IntegerField())
        tags = serializers.ListField(
            child=tag_name_serializer(),
            required=False,
            help_text="Only with ?expand=names. `name` is null for a tag WeChat no longer lists.",
        )

    @extend_schema(
        operation_id="user_tags_get",
        summary="Tags of one user",
        description=(
            f"The tag ids WeChat holds for one follower (`cgi-bin/tags/getidlist`). "
            f"An openid is {OPENID_RULE}; any other is refused with 400 without calling WeChat."
        ),
        parameters=[
            OpenApiParameter(
                "openid",
                str,
                OpenApiParameter.PATH,
                pattern=OPENID_REGEX,
                description=f"The follower's openid: {OPENID_RULE}.",
            ),
            OpenApiParameter(
                "expand", str, enum=["names"], description="`names` adds the tags' names."
            ),
            RETRY_AFTER_HEADER,
        ],
        responses={200: OutputSerializer, **error_responses(*_LOOKUP_ERRORS)},
    )
    def get(self, request, appid: str, openid: str):
        return Response(
            user_tags_body(
                call=request.call,
                principal=self.principal,
                prefetched=request.prefetched_cache,
                query=request.query_params,
                appid=appid,
                openid=openid,
            )
        )


def user_tags_body(
    *,
    call: CallContext,
    principal: ApiPrincipal,
    prefetched: dict,
    query: QueryDict,
    appid: str,
    openid: str,
) -> dict:
    """One user's tags, from the URL's values to the answer's body (the plain view's and the
    DRF view's GET)."""
    call.openid = openid
    if not _OPENID.fullmatch(openid):
        raise api.InvalidRequest(f"openid: An openid is {OPENID_RULE}.")
    expand = query.get("expand")
    if expand not in (None, "names"):
        raise api.InvalidRequest('expand: The only expansion is "names".')
    authorizer = authorizer_get_for_merchant(
        merchant_id=principal.merchant_id, appid=appid, prefetched=prefetched
    )
    call.authorizer_id, call.authorizer_appid = authorizer.pk, appid
    tagids = user_tagids_get(authorizer=authorizer, openid=openid)
    body: dict = {"openid": openid, "tagid_list": tagids}
    if expand == "names":
        names = tag_names_get(authorizer=authorizer, expect_ids=tuple(tagids))
        body["tags"] = [{"id": tagid, "name": names.get(tagid)} for tagid in tagids]
    return body


class UserTagsBulkView(MerchantApiView):
    endpoint = "user_tags_bulk"
    # Charged in post(), once the body is valid: its cost is the number of openids.
    throttle_classes = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserTagsBulkRequest"

        openids = serializers.ListField(
            child=_openid_field(),
            min_length=1,
            max_length=BULK_MAX,
            help_text=(
                f"1 to {BULK_MAX} openids, each {OPENID_RULE}. One malformed openid makes the "
                "whole request 400 invalid_request (nothing is sent to WeChat); "
                "WeChat's answers per openid come back as per-item errors."
            ),
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserTagsBulk"

        results = serializers.ListField(child=BulkResultSerializer(), help_text="In request order.")

    @extend_schema(
        operation_id="user_tags_bulk",
        summary="Tags of many users",
        description=(
            "Looks up to 1,000 openids concurrently (bounded) and answers in request order. "
            "One openid's failure (e.g. `invalid_openid`) is reported in its own item and does "
            "not fail the rest; refusals that concern the account (permission, eligibility, "
            "revocation) fail the whole request before any WeChat call. Items that failed with "
            "`rate_limited` or `upstream_unavailable` carry `error.retry_after` (seconds), and "
            "the response then has a `Retry-After` header with the longest. The request takes "
            "one rate-limit token per openid, charged once the body is valid; more openids "
            "than the key's burst is `invalid_request` (it could never fit)."
        ),
        request=InputSerializer,
        parameters=[RETRY_AFTER_HEADER],
        responses={200: OutputSerializer, **error_responses(*_LOOKUP_ERRORS)},
    )
    def post(self, request, appid: str):
        if "expand" in request.query_params:
            # Names are not looked up here: refused, rather than an answer silently without them.
            raise api.InvalidRequest(
                "expand: The bulk lookup has no expansion; names come with the single lookup "
                "(GET .../users/{openid}/tags?expand=names)."
            )
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        openids = params.validated_data["openids"]
        request.call.item_count = len(openids)
        rate_limit_charge(principal=self.principal, cost=len(openids))
        authorizer = self.authorizer(appid)
        request.call.authorizer_id, request.call.authorizer_appid = authorizer.pk, appid
        results = []
        retry_after = 0
        for lookup in user_tagids_get_bulk(authorizer=authorizer, openids=openids):
            if lookup.error is None:
                results.append({"openid": lookup.openid, "tagid_list": lookup.tagid_list})
                continue
            error = api_error_from(lookup.error) or api.ApiError()
            item = {"openid": lookup.openid, **error.body()}
            if error.retry_after is not None:
                # The request as a whole succeeded (200), so the wait goes on each item.
                item["error"]["retry_after"] = max(1, int(error.retry_after))
                retry_after = max(retry_after, item["error"]["retry_after"])
            results.append(item)
        response = Response({"results": results})
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
