"""A merchant API GET served by a plain Django view, without DRF's request wrapping.

For the hottest endpoint (one user's tags) DRF's Request, content negotiation, throttle and
permission objects cost more CPU per call than the lookup's own work. The plain view runs the
same steps through the same functions, in DRF's order: the one cache round trip
(api_prefetch), the key (principal_for_key, with the failed-authentication budget), the rate
limit (rate_limit_settle, the throttle's own function), the endpoint's body function, every
error through api_exception_handler, the call log row (api_call_outcome_record) and DRF's
JSONRenderer. It is an ordinary view inside Django's request cycle: every middleware, request
signal and error hook sees it.

A request it does not serve goes to the DRF view, which answers it as every other endpoint:
another method (405, OPTIONS, HEAD), an Accept other than JSON (406), no Bearer key or another
scheme (401). The DRF view is also the OpenAPI document's source: the plain view carries its
class as `cls`, as the function DRF's as_view() returns does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace

from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer

from .auth_throttle import auth_client_ip
from .authentication import ApiPrincipal, bearer_key, principal_for_key
from .call_log import CallContext
from .exceptions import api_exception_handler
from .ratelimit import ApiKeyRateThrottle, rate_limit_settle
from .views import MerchantApiView, api_call_outcome_record, api_prefetch

# What a merchant's HTTP client sends when it asks for JSON, or for anything.
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})
UNKNOWN_KEY = "The API key is unknown or has been revoked."
_RENDERER = JSONRenderer()

# body(call=, principal=, prefetched=, query=, **url_kwargs) -> the answer's JSON body
BodyFunction = Callable[..., dict]


def plain_get_view(view_class: type[MerchantApiView], body: BodyFunction) -> Callable:
    """The URL pattern's view for `view_class`: its GET through `body`, the rest through DRF."""
    drf_view = view_class.as_view()
    charges = ApiKeyRateThrottle in view_class.throttle_classes
    sample = view_class()
    sample.setup(None)  # as as_view() does: where a view with get() gains head()
    allow = sample.default_response_headers["Allow"]

    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        raw_key = bearer_key(request)
        if (
            request.method != "GET"
            or raw_key is None
            or request.headers.get("Accept", "") not in PLAIN_ACCEPT
        ):
            return drf_view(request, **kwargs)
        started = time.perf_counter()
        call = CallContext(endpoint=view_class.endpoint)
        principal: ApiPrincipal | None = None
        outcome = SimpleNamespace(api_error=None)  # api_exception_handler files its error here
        try:
            prefetch = api_prefetch(raw_key=raw_key, appid=kwargs.get("appid"), charges=charges)
            principal = principal_for_key(
                raw_key, prefetched=prefetch.cached, client=auth_client_ip(request)
            )
            if principal is None:
                raise AuthenticationFailed(UNKNOWN_KEY)
            if charges:
                rate_limit_settle(
                    principal=principal,
                    charge=prefetch.charge,
                    key_identity=prefetch.key_identity,
                )
            answer = body(
                call=call,
                principal=principal,
                prefetched=prefetch.cached,
                query=request.GET,
                **kwargs,
            )
            response = HttpResponse(_RENDERER.render(answer), content_type=_RENDERER.media_type)
        except Exception as exc:
            error = api_exception_handler(exc, {"view": sample, "request": outcome})
            response = HttpResponse(
                _RENDERER.render(error.data),
                status=error.status_code,
                content_type=_RENDERER.media_type,
            )
            for name, value in error.headers.items():
                if name.lower() != "content-type":  # DRF's placeholder until it renders
                    response[name] = value
        response["Allow"] = allow
        api_call_outcome_record(
            principal=principal,
            context=call,
            error=outcome.api_error,
            status_code=response.status_code,
            started=started,
        )
        return response

    # What drf-spectacular and Django read off a view function DRF's as_view() made.
    view.cls = view_class
    view.initkwargs = {}
    view.csrf_exempt = True
    view.__name__ = view.__qualname__ = view_class.__name__
    view.__doc__ = view_class.__doc__
    return view
