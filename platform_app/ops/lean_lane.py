"""The lean lane: the merchant API's hottest lookups answered without Django's request cycle.

Under gunicorn a warm lookup spent more CPU in Django's handler, its middleware and DRF's
request wrapping than in the work it must do (tests/bench/RESULTS.md, "Hot path levers").
A MerchantApiView may offer `lean_get(lean, **url_kwargs)`, its GET as a plain function
that returns the answer's body or raises what get() would. This WSGI wrapper answers such
a GET itself when nothing about the request needs the full stack, and hands every other
request to Django as it came.

It answers only when all of these hold: GET with no query string; Accept absent, `*/*` or
`application/json`; a Bearer key; a path that resolves to a view with `lean_get`; no HTTPS
redirect due; the key's cache entry current and valid. Anything else (no key, an unknown
or uncached one) goes to Django with what the lane already read and charged (the rate-limit
token taken ahead, platform_app.api.ratelimit.rate_limit_prefetch) left in the environ, so
nothing is read or charged twice, and DRF answers it as it always has. The lane then does
what DRF's dispatch does, in its order: the rate limit (rate_limit_settle, as the throttle),
the view's lean_get, and any error through api_exception_handler.

What Django adds to a response, the lane adds the same way: request_started and
request_finished (database connections' age and health checks), the request id, the
route's metrics, the headers of SecurityMiddleware and XFrameOptionsMiddleware (computed
by those middlewares, once per process and scheme), DRF's Allow header, django.request's
log line for a 4xx or 5xx, the error body of api_exception_handler and DRF's JSONRenderer.
tests/api/test_lean_lane.py holds both lanes to the same status, headers and body for
every outcome. API_LEAN_LANE = False sends every request through Django.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http.client import responses

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, get_resolver, set_script_prefix
from django.utils.log import log_response
from rest_framework.renderers import JSONRenderer

from platform_app.api.authentication import bearer_key, principal_cached
from platform_app.api.call_log import CallContext
from platform_app.api.exceptions import api_exception_handler
from platform_app.api.ratelimit import ApiKeyRateThrottle, rate_limit_settle
from platform_app.api.views import (
    PREFETCH_ENVIRON_KEY,
    LeanRequest,
    Prefetch,
    api_call_outcome_record,
    api_prefetch,
)
from platform_app.logs import request_id_var

from .middleware import API_PREFIX, http_request_observe, request_id_for

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
PLAIN_ACCEPT = frozenset({None, "", "*/*", "application/json"})
_RENDERER = JSONRenderer()
_CONTENT_TYPE = ("Content-Type", _RENDERER.media_type)


class _Route:
    """A view with a lean GET, as the URL resolver found it."""

    def __init__(self, view_class: type, route: str) -> None:
        self.view_class = view_class
        # For the exception handler's context and DRF's headers; set up as as_view() does
        # (which is where a view with get() gains head()).
        self.view = view_class()
        self.view.setup(None)
        self.lean_get = view_class.lean_get
        self.route = route
        self.charges = ApiKeyRateThrottle in view_class.throttle_classes
        self.headers = list(self.view.default_response_headers.items())


class LeanLane:
    def __init__(self, django: WsgiApp) -> None:
        self.django = django
        self._routes: dict[tuple[type, str], _Route] = {}
        self._decorations: dict[bool, list[tuple[str, str]]] = {}
        self._security = SecurityMiddleware(lambda request: HttpResponse())
        self._xframe = XFrameOptionsMiddleware(lambda request: HttpResponse())

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        found = self._route(environ) if settings.API_LEAN_LANE else None
        if found is None:
            return self.django(environ, start_response)
        route, kwargs = found
        request = None
        if settings.SECURE_SSL_REDIRECT or settings.SECURE_HSTS_SECONDS:
            # Whether the request is secure is Django's to say (SECURE_PROXY_SSL_HEADER).
            request = WSGIRequest(environ)
            if self._security.process_request(request) is not None:
                return self.django(environ, start_response)  # Django redirects it
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id_var.set(request_id)
        lean = None
        try:
            started = time.perf_counter()
            lean = self._admit(route, environ, kwargs)
            if lean is not None:
                set_script_prefix(get_script_name(environ))
                signals.request_started.send(sender=WSGIHandler, environ=environ)
                try:
                    status, headers, body = self._handle(route, lean, kwargs, started)
                finally:
                    signals.request_finished.send(sender=WSGIHandler)
        finally:
            request_id_var.reset(token)
        if lean is None:
            return self.django(environ, start_response)
        headers += [
            _CONTENT_TYPE,
            *route.headers,
            *self._decoration(request),
            ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id),
        ]
        if status >= 400:
            self._log(environ, request, status)
        http_request_observe(
            route=route.route, method="GET", status=status, seconds=time.perf_counter() - started
        )
        start_response(f"{status} {responses[status]}", headers)
        return [body]

    def _route(self, environ: dict) -> tuple[_Route, dict] | None:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return None
        if environ.get("HTTP_ACCEPT") not in PLAIN_ACCEPT:
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(API_PREFIX) or not environ.get("HTTP_AUTHORIZATION"):
            return None
        try:
            match = get_resolver().resolve(path)
        except Resolver404:
            return None
        view_class = getattr(match.func, "view_class", None)
        if getattr(view_class, "lean_get", None) is None:
            return None
        route = self._routes.get((view_class, match.route))
        if route is None:
            route = self._routes[(view_class, match.route)] = _Route(view_class, match.route)
        return route, match.kwargs

    def _admit(self, route: _Route, environ: dict, kwargs: dict) -> LeanRequest | None:
        """The caller, authenticated from the one prefetch; None: Django decides (with the
        prefetch handed over, if one was made, so nothing is read or charged twice)."""
        raw_key = bearer_key(_Meta(environ))
        if raw_key is None:
            return None
        try:
            prefetch: Prefetch = api_prefetch(
                raw_key=raw_key, appid=kwargs.get("appid"), charges=route.charges
            )
        except Exception:  # the cache failed outright: Django's lane answers as it always has
            return None
        principal = principal_cached(raw_key, prefetched=prefetch.cached)
        if principal is None:  # not cached, or a key known to be unknown: DRF answers 401
            environ[PREFETCH_ENVIRON_KEY] = prefetch
            return None
        return LeanRequest(
            principal=principal,
            call=CallContext(endpoint=route.view_class.endpoint),
            prefetch=prefetch,
        )

    def _handle(
        self, route: _Route, lean: LeanRequest, kwargs: dict, started: float
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            if route.charges:  # DRF's order: authenticated (above), throttled, handled
                rate_limit_settle(
                    principal=lean.principal,
                    charge=lean.prefetch.charge,
                    key_identity=lean.prefetch.key_identity,
                )
            status, headers, body = 200, [], _RENDERER.render(route.lean_get(lean, **kwargs))
        except Exception as exc:
            # Every error in the API's shape, exactly as DRF's lane answers it.
            response = api_exception_handler(exc, {"view": route.view, "request": lean})
            status = response.status_code
            # Its own Content-Type is Django's placeholder until DRF renders it: ours is added.
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-type"]
            body = _RENDERER.render(response.data)
        api_call_outcome_record(
            principal=lean.principal,
            context=lean.call,
            error=lean.api_error,
            status_code=status,
            started=started,
        )
        return status, headers, body

    def _decoration(self, request: WSGIRequest | None) -> list[tuple[str, str]]:
        """The headers SecurityMiddleware and XFrameOptionsMiddleware give an API answer."""
        secure = request.is_secure() if request is not None else False
        found = self._decorations.get(secure)
        if found is None:
            sample = HttpResponse()
            probe = request if request is not None else _SchemeRequest(secure)
            self._xframe.process_response(probe, self._security.process_response(probe, sample))
            found = [(k, v) for k, v in sample.items() if k.lower() != "content-type"]
            self._decorations[secure] = found
        return found

    def _log(self, environ: dict, request: WSGIRequest | None, status: int) -> None:
        # What Django's handler logs for any 4xx/5xx (paths masked by the logging filter).
        request = request or WSGIRequest(environ)
        log_response(
            "%s: %s",
            responses[status],
            request.path,
            response=HttpResponse(status=status),
            request=request,
        )


class _Meta:
    """bearer_key() reads request.META; the environ is what Django's META would be."""

    __slots__ = ("META",)

    def __init__(self, environ: dict) -> None:
        self.META = environ


class _SchemeRequest:
    """Only is_secure() is asked of the request when SSL redirects and HSTS are off."""

    def __init__(self, secure: bool) -> None:
        self._secure = secure

    def is_secure(self) -> bool:
        return self._secure


def lean_lane(django: WsgiApp) -> WsgiApp:
    return LeanLane(django)
