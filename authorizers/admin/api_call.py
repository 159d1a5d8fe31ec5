"""The merchant API call log: read-only. Openids arrive here already masked."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from authorizers.services.quota.readings import authorizer_rid_explain
from core.admin_base import ReadOnlyAdmin, indexed_values_filter
from core.db_scale import EstimatedCountPaginator

from ..models import ApiCall, Authorizer
from ..selectors.dashboard import api_call_search_q
from .authorizer_actions import EXPECTED
from .wechat_messages import action_failure_message

MAX_RIDS = 10  # each one is a WeChat call made inside this request


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    # What tells a failed row apart comes first: at 1280 px result, errcode and rid stay on
    # screen; time has seconds (FORMAT_MODULE_PATH), so rows of one minute differ.
    list_display = ("created_at", "outcome", "errcode", "rid", "status", "caller",
                    "endpoint", "latency", "openid")  # fmt: skip
    # Every filter and the date filter are served by an index (models.ApiCall.Meta), and the
    # filters list their values through it: the log holds millions of rows. No date
    # hierarchy: its year/month/day links are DISTINCTs over the whole filtered log. No
    # merchant filter listing every merchant: ?merchant__id__exact=<id> filters.
    list_filter = (
        indexed_values_filter("result", "result"),
        "created_at",
        indexed_values_filter("endpoint", "endpoint"),
    )
    search_fields = ("authorizer_appid", "rid")
    search_help_text = "An account's appid or a WeChat rid, exactly."
    list_select_related = ("merchant",)
    exclude = ("api_key",)
    readonly_fields = ("key",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["explain_rid"]

    @admin.action(description="Ask WeChat about this rid", permissions=["view"])
    def explain_rid(self, request: HttpRequest, queryset: QuerySet[ApiCall]):
        """openapi/rid/get with the account's token: what WeChat recorded for the call."""
        calls = list(queryset.exclude(rid="")[: MAX_RIDS + 1])
        if not calls or len(calls) > MAX_RIDS:
            self.message_user(
                request, f"Select 1 to {MAX_RIDS} calls that have a rid.", messages.ERROR
            )
            return None
        answers = []
        for call in calls:
            authorizer = Authorizer.objects.filter(appid=call.authorizer_appid).first()
            try:
                if authorizer is None:
                    raise LookupError("the account is no longer stored")
                recorded = authorizer_rid_explain(authorizer_id=authorizer.pk, rid=call.rid)
                text = json.dumps(recorded, ensure_ascii=False, indent=2, sort_keys=True)
            except (*EXPECTED, LookupError) as exc:
                text = f"WeChat could not tell: {action_failure_message(exc)}"
            answers.append((call, text))
        context = {
            **self.admin_site.each_context(request),
            "title": "What WeChat recorded",
            "opts": self.model._meta,
            "answers": answers,
        }
        return TemplateResponse(request, "admin/authorizers/apicall/explain_rid.html", context)

    @admin.display(description="errcode", ordering="wechat_errcode")
    def errcode(self, obj: ApiCall):
        return obj.wechat_errcode

    @admin.display(description="Merchant · appid", ordering="authorizer_appid")
    def caller(self, obj: ApiCall):
        return format_html(
            '{}<span class="wxt-appid">{}</span>', obj.merchant, obj.authorizer_appid
        )

    @admin.display(description="openid")
    def openid(self, obj: ApiCall) -> str:
        return obj.openid_masked

    @admin.display(description="Result", ordering="result")
    def outcome(self, obj: ApiCall):
        css = "wxt-yes" if obj.result == "ok" else "wxt-no"
        return format_html('<span class="{}">{}</span>', css, obj.result)

    def changelist_view(self, request, extra_context=None):
        extra = {"title": "Merchant API call log"} | (extra_context or {})
        return super().changelist_view(request, extra)

    @admin.display(description="HTTP", ordering="status_code")
    def status(self, obj: ApiCall) -> int:
        return obj.status_code

    def get_search_results(self, request, queryset, search_term):
        """Exact matches, each an index probe: a substring search reads the whole log."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(api_call_search_q(term)), False

    @admin.display(description="Latency", ordering="latency_ms")
    def latency(self, obj: ApiCall) -> str:
        return f"{obj.latency_ms} ms"

    @admin.display(description="API key")
    def key(self, obj: ApiCall) -> str:
        return f"{obj.api_key.prefix}…" if obj.api_key else "—"
