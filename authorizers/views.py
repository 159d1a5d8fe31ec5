"""Merchant onboarding pages (SPEC 4.2): landing, start (to WeChat), callback (result)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from authorizers.services.onboarding.authorization import (
    AuthorizerOwnedByAnotherMerchant,
    authorization_complete,
    authorization_start,
)
from authorizers.services.onboarding.invites import InviteInvalid, invite_merchant_get
from component.services.token import ComponentTicketMissing
from wechat.errors import WeChatAuthCodeInvalid, WeChatError

from .account_type import authorizer_is_verified
from .capabilities import capabilities_evaluate, capability_get
from .models import Authorizer
from .permission_sets import permission_set_labels
from .selectors.onboarding import authorizer_get_onboarded

logger = logging.getLogger(__name__)

# WeChat checks that the browser comes from the platform's registered domain, so the
# cross-origin hop must carry our origin (the site default, same-origin, sends nothing);
# never the full URL, which holds the invite.
ONBOARDING_REFERRER_POLICY = "strict-origin-when-cross-origin"

_MESSAGES = {
    "invite": (
        400,
        "This link is not valid",
        "The link is wrong or has expired. Please ask your contact for a new authorization link.",
    ),
    "no_code": (
        400,
        "WeChat did not confirm the authorization",
        "It looks like the WeChat page was closed or the authorization was not confirmed. "
        "You can start again below.",
    ),
    "code": (
        400,
        "This authorization has expired or was already used",
        "Please start again: it only takes a minute.",
    ),
    "not_ready": (
        503,
        "We cannot reach WeChat right now",
        "Our connection to WeChat is still being set up. Please try again in a few minutes.",
    ),
    "wechat": (
        502,
        "WeChat did not answer as expected",
        "This is usually temporary. Please try again in a few minutes.",
    ),
}


def _private(response: HttpResponse) -> HttpResponse:
    """Every onboarding answer: the invite in its URL stays out of caches and Referer headers."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = ONBOARDING_REFERRER_POLICY
    return response


def _page(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return _private(render(request, f"authorizers/{template}", context, status=status))


def _message(request: HttpRequest, key: str, invite: str | None = None) -> HttpResponse:
    status, title, text = _MESSAGES[key]
    retry_url = reverse("authorizers:landing", args=[invite]) if invite else None
    context = {"title": title, "text": text, "retry_url": retry_url}
    return _page(request, "message.html", context, status)


@require_GET
def authorize_landing(request: HttpRequest, invite: str) -> HttpResponse:
    try:
        merchant = invite_merchant_get(invite=invite)
    except InviteInvalid:
        return _message(request, "invite")
    start_url = reverse("authorizers:start", args=[invite])
    return _page(request, "landing.html", {"merchant": merchant, "start_url": start_url})


@require_GET
def authorize_start(request: HttpRequest, invite: str) -> HttpResponse:
    try:
        invite_merchant_get(invite=invite)
        url = authorization_start(invite=invite)
    except InviteInvalid:
        return _message(request, "invite")
    except ComponentTicketMissing:
        return _message(request, "not_ready", invite)
    except WeChatError as exc:
        logger.warning("pre_auth_code failed: %s", exc)
        return _message(request, "wechat", invite)
    return _private(HttpResponseRedirect(url))


@require_GET
def authorize_callback(request: HttpRequest, invite: str) -> HttpResponse:
    try:
        merchant = invite_merchant_get(invite=invite)
    except InviteInvalid:
        return _message(request, "invite")
    code = request.GET.get("auth_code", "")
    if not code or len(code) > 512:
        return _message(request, "no_code", invite)
    try:
        authorizer = authorization_complete(merchant=merchant, authorization_code=code)
    except AuthorizerOwnedByAnotherMerchant as exc:
        context = {
            "account": exc.authorizer.nickname or exc.authorizer.appid,
            "support_contact": settings.SUPPORT_CONTACT,
        }
        return _page(request, "refused.html", context, 409)
    except WeChatAuthCodeInvalid:
        return _message(request, "code", invite)
    except ComponentTicketMissing:
        return _message(request, "not_ready", invite)
    except WeChatError as exc:
        logger.warning("authorization callback failed: %s", exc)
        return _message(request, "wechat", invite)
    authorizer.refresh_from_db()  # the info sync may have run already
    return _result_page(request, invite, authorizer, checks=0)


# The account's type and verification arrive by the info sync, a task queued with the
# authorization and usually done in a second or two. Until then the result page reloads
# itself (no script: a meta refresh) from the result URL, which never spends the code again,
# then says plainly that the details have not arrived.
RESULT_REFRESH_SECONDS = 2
RESULT_REFRESH_CHECKS = 5


@require_GET
def authorize_result(request: HttpRequest, invite: str, appid: str) -> HttpResponse:
    try:
        merchant = invite_merchant_get(invite=invite)
    except InviteInvalid:
        return _message(request, "invite")
    authorizer = authorizer_get_onboarded(merchant=merchant, appid=appid)
    if authorizer is None:
        return _message(request, "invite")
    checks = request.GET.get("checks", "")
    valid = checks.isascii() and checks.isdigit() and len(checks) < 4
    checks = int(checks) if valid else RESULT_REFRESH_CHECKS
    return _result_page(request, invite, authorizer, checks=min(checks, RESULT_REFRESH_CHECKS))


def _result_page(
    request: HttpRequest, invite: str, authorizer: Authorizer, *, checks: int
) -> HttpResponse:
    """`checks`: how many times the page has reloaded itself waiting for the info sync."""
    context = onboarding_result_context(authorizer)
    result_url = reverse("authorizers:result", args=[invite, authorizer.appid])
    context["check_again_url"] = f"{result_url}?checks=0"
    if context["info_pending"] and checks < RESULT_REFRESH_CHECKS:
        context["refresh_url"] = f"{result_url}?checks={checks + 1}"
        context["refresh_seconds"] = RESULT_REFRESH_SECONDS
    return _page(request, "result.html", context)


def onboarding_result_context(authorizer: Authorizer) -> dict:
    """What the result page shows: the grant, the account type, and what it can be used for."""
    known_type = authorizer.service_type is not None
    return {
        "authorizer": authorizer,
        "granted": permission_set_labels(authorizer.permission_sets or []),
        "info_pending": authorizer.info_synced_at is None,
        "account_type": authorizer.get_service_type_display() if known_type else "",
        "verified": authorizer_is_verified(authorizer),
        "capabilities": onboarding_capabilities(authorizer),
    }


def onboarding_capabilities(authorizer: Authorizer) -> list[dict]:
    """Each registered capability (tag lookup, ...) with whether it is usable, and why not."""
    rows = []
    for name, status in capabilities_evaluate(authorizer).items():
        rows.append(
            {
                "title": capability_get(name).title,
                "usable": status.usable,
                "reason": status.reason,
            }
        )
    return rows
