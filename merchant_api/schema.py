"""OpenAPI pieces every merchant API view shares: the error body and the error responses."""

from __future__ import annotations

from collections import defaultdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from .errors import API_ERRORS, ApiError


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[cls.code for cls in API_ERRORS] + ["internal_error"],
        help_text="Stable machine-readable code (SPEC 4.3); branch on this.",
    )
    message = serializers.CharField(help_text="A sentence for humans; may change.")
    wechat_errcode = serializers.IntegerField(
        required=False, help_text="WeChat's errcode; present only when WeChat answered."
    )
    rid = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="WeChat's request id (from errmsg); present only when WeChat answered.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_RETRY_AFTER = {429, 503}

RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=sorted(_RETRY_AFTER),
    description="Seconds to wait before retrying.",
)


def _markdown_text(text: str) -> str:
    """Plain text inside a description, which is Markdown (CommonMark): `<api key>` would be an
    HTML tag that the docs page drops, so angle brackets are escaped."""
    return text.replace("<", "\\<").replace(">", "\\>")


def error_responses(*errors: type[ApiError]) -> dict[int, OpenApiResponse]:
    """One response per status: its description lists the codes it may carry, and an example
    body per code (without one, the schema's example would show the first code of all)."""
    by_status: dict[int, list[type[ApiError]]] = defaultdict(list)
    for error in errors:
        by_status[error.status].append(error)
    responses = {}
    for status, group in sorted(by_status.items()):
        codes = "; ".join(f"`{e.code}`: {_markdown_text(e.message)}" for e in group)
        note = " Carries a `Retry-After` header (seconds)." if status in _RETRY_AFTER else ""
        examples = [OpenApiExample(e.code, value=e().body(), response_only=True) for e in group]
        responses[status] = OpenApiResponse(
            response=ErrorSerializer, description=codes + note, examples=examples
        )
    return responses


def tag_name_serializer():
    return inline_serializer(
        "TagName",
        {"id": serializers.IntegerField(), "name": serializers.CharField(allow_null=True)},
    )
