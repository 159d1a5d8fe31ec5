"""The authorizer changelist's actions: each calls one service per account and reports it.

A failure of one account is a message, never a 500, and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from authorizers.operators_site.labels import account_type_label, humanize_until, verified_label
from authorizers.services.quota.readings import (
    QUOTA_RESETS_PER_MONTH,
    authorizer_quota_clear,
    authorizer_quota_list,
    authorizer_quota_resets_used,
)
from authorizers.services.tokens.errors import AuthorizerTokenRefreshError, AuthorizerUnavailable
from authorizers.services.tokens.refresh import authorizer_refresh_access_token
from component.services.token import ComponentTicketMissing
from wechat.errors import WeChatError

from ..models import Authorizer
from ..permission_sets import permission_set_labels
from ..services.status import authorizer_mark_revoked
from ..services.sync import authorizer_sync_info
from .wechat_messages import action_failure_message

logger = logging.getLogger(__name__)

# Each selected account costs a WeChat call inside the request; bigger batches belong to
# `manage.py refresh_authorizer_tokens --all` / `sync_authorizers`.
MAX_BATCH = 50
EXPECTED = (AuthorizerUnavailable, AuthorizerTokenRefreshError, WeChatError, ComponentTicketMissing)


def _each(
    request: HttpRequest, queryset: QuerySet[Authorizer], verb: str, work: Callable[[int], str]
) -> None:
    if queryset.count() > MAX_BATCH:
        messages.error(
            request,
            f"Select at most {MAX_BATCH} accounts; use the management command for more.",
        )
        return
    for authorizer in queryset:
        try:
            done = work(authorizer.pk)
        except EXPECTED as exc:
            failure = action_failure_message(exc)
            messages.error(request, f"{authorizer} ({authorizer.appid}): {verb}: {failure}.")
        except Exception as exc:  # an operator's batch must not end in a 500
            logger.exception("admin %s of authorizer %s failed", verb, authorizer.appid)
            failure = action_failure_message(exc)
            messages.error(request, f"{authorizer} ({authorizer.appid}): {verb}: {failure}.")
        else:
            messages.success(request, f"{authorizer} ({authorizer.appid}): {done}")


@admin.action(description="Refresh token now", permissions=["change"])
def refresh_token_now(modeladmin, request: HttpRequest, queryset: QuerySet[Authorizer]) -> None:
    def work(authorizer_id: int) -> str:
        token = authorizer_refresh_access_token(authorizer_id=authorizer_id, force=True)
        at = token.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"new access token, expires {humanize_until(token.expires_at)} ({at})."

    _each(request, queryset, "refresh", work)


@admin.action(description="Sync info from WeChat", permissions=["change"])
def sync_info(modeladmin, request: HttpRequest, queryset: QuerySet[Authorizer]) -> None:
    def work(authorizer_id: int) -> str:
        a = authorizer_sync_info(authorizer_id=authorizer_id)
        if a.status != Authorizer.Status.ACTIVE:
            return f"not synced: the account is '{a.get_status_display()}'."
        sets = ", ".join(f"{i} {name}" for i, name in permission_set_labels(a.permission_sets))
        return (
            f"synced: {a.nickname or a.appid}, {account_type_label(a)}, {verified_label(a)}; "
            f"permission sets: {sets or 'none'}."
        )

    _each(request, queryset, "sync", work)


@admin.action(description="Mark revoked (stops refreshes and calls)", permissions=["change"])
def mark_revoked(modeladmin, request: HttpRequest, queryset: QuerySet[Authorizer]):
    if request.POST.get("confirm") != "yes":
        # Django's delete pattern: an intermediate page, the same POST with confirm=yes.
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Mark accounts revoked?",
            "opts": modeladmin.model._meta,
            "authorizers": queryset,
            "action": "mark_revoked",
            "next_url": request.POST.get("_next", ""),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/authorizers/authorizer/confirm_revoke.html", context
        )

    def work(authorizer_id: int) -> str:
        if not authorizer_mark_revoked(authorizer_id=authorizer_id):
            return "was already revoked; nothing changed."
        return "marked revoked: no more refreshes or API calls until the merchant authorizes again."

    _each(request, queryset, "mark revoked", work)
    return None


@admin.action(description="Check WeChat quota now", permissions=["view"])
def check_quota(modeladmin, request: HttpRequest, queryset: QuerySet[Authorizer]) -> None:
    def work(authorizer_id: int) -> str:
        quotas = authorizer_quota_list(authorizer=Authorizer.objects.get(pk=authorizer_id))
        return "; ".join(f"{q.api}: {q.used} of {q.daily_limit} used" for q in quotas) + "."

    _each(request, queryset, "quota check", work)


@admin.action(description="Reset WeChat quota (10 a month)", permissions=["change"])
def reset_quota(modeladmin, request: HttpRequest, queryset: QuerySet[Authorizer]):
    if request.POST.get("confirm") != "yes":
        # A reset spends one of the account's 10 a month: say how many are left, then ask.
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Reset WeChat quota?",
            "opts": modeladmin.model._meta,
            "accounts": [(a, authorizer_quota_resets_used(a)) for a in queryset],
            "limit": QUOTA_RESETS_PER_MONTH,
            "action": "reset_quota",
            "next_url": request.POST.get("_next", ""),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/authorizers/authorizer/confirm_reset_quota.html", context
        )

    def work(authorizer_id: int) -> str:
        used = authorizer_quota_clear(authorizer_id=authorizer_id)
        return (
            f"quota reset: WeChat cleared today's counters; calls refused after a 45009 go "
            f"through again. "
            f"{used} of {QUOTA_RESETS_PER_MONTH} resets used this month."
        )

    _each(request, queryset, "quota reset", work)
    return None
