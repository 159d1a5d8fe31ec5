"""Create (shown once) and revoke a merchant's API keys from the merchant's admin page.

Create is POST-redirect-GET: the POST stores the new key, encrypted, in the operator's
session; the GET that follows pops it and shows it. A reload, the back button or another
tab finds nothing to pop, so the key is shown exactly once and only this session sees it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.fields import decrypt_value, encrypt_value

from ..models import ApiKey, Merchant
from ..services.api_keys import (
    ApiKeyRefused,
    api_key_create,
    api_key_revoke,
    merchant_has_api_keys,
)

_SESSION_KEY = "admin_new_api_key"
TEMPLATES = "admin/authorizers/merchant/"


def _merchant(model_admin, request: HttpRequest, merchant_id: str) -> Merchant:
    merchant = get_object_or_404(Merchant, pk=merchant_id)
    if not model_admin.has_change_permission(request, merchant):
        raise PermissionDenied
    return merchant


def _context(model_admin, request: HttpRequest, merchant: Merchant, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "merchant": merchant,
        "title": title,
        "merchant_url": reverse("admin:authorizers_merchant_change", args=[merchant.pk]),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def api_key_create_view(request: HttpRequest, model_admin, merchant_id: str) -> HttpResponse:
    merchant = _merchant(model_admin, request, merchant_id)
    if not merchant_has_api_keys(merchant):
        messages.error(request, str(ApiKeyRefused(merchant)))
        return HttpResponseRedirect(
            reverse("admin:authorizers_merchant_change", args=[merchant.pk])
        )
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100]
        api_key, raw_key = api_key_create(merchant=merchant, name=name)
        request.session[_SESSION_KEY] = {"id": api_key.pk, "key": encrypt_value(raw_key)}
        url = reverse("admin:authorizers_merchant_api_key_created", args=[merchant.pk, api_key.pk])
        return HttpResponseRedirect(url)
    context = _context(model_admin, request, merchant, f"New API key for {merchant}")
    return TemplateResponse(request, TEMPLATES + "api_key_create.html", context)


def api_key_created_view(
    request: HttpRequest, model_admin, merchant_id: str, key_id: str
) -> HttpResponse:
    merchant = _merchant(model_admin, request, merchant_id)
    api_key = get_object_or_404(ApiKey, pk=key_id, merchant=merchant)
    pending = request.session.get(_SESSION_KEY)
    raw_key = None
    if isinstance(pending, dict) and str(pending.get("id")) == str(api_key.pk):
        raw_key = decrypt_value(pending["key"])
        del request.session[_SESSION_KEY]
    title = "Your new API key" if raw_key else "API key already shown"
    context = _context(model_admin, request, merchant, title, api_key=api_key, raw_key=raw_key)
    return TemplateResponse(request, TEMPLATES + "api_key_created.html", context)


@require_http_methods(["GET", "POST"])
def api_key_revoke_view(
    request: HttpRequest, model_admin, merchant_id: str, key_id: str
) -> HttpResponse:
    merchant = _merchant(model_admin, request, merchant_id)
    api_key = ApiKey.objects.filter(pk=key_id, merchant=merchant).first()
    if api_key is None:
        raise Http404("no such API key for this merchant")
    if request.method == "POST":
        was_revoked = api_key.is_revoked
        api_key_revoke(api_key=api_key)
        if was_revoked:
            messages.info(request, f"API key {api_key.prefix}… was already revoked.")
        else:
            messages.success(
                request, f"API key {api_key.prefix}… revoked: requests with it now get 401."
            )
        return HttpResponseRedirect(
            reverse("admin:authorizers_merchant_change", args=[merchant.pk])
        )
    context = _context(model_admin, request, merchant, "Revoke API key?", api_key=api_key)
    return TemplateResponse(request, TEMPLATES + "api_key_revoke.html", context)
