"""Request ids and per-route HTTP metrics."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver

from core.logs import request_id_var
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from platform_app.ops import views

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# Label values come from closed sets: a label taken from the request as sent (any method,
# any path) would let a client create series without limit (memory, multiprocess files).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def metric_method(method: str | None) -> str:
    return method if method in KNOWN_METHODS else OTHER


def metric_route(request: HttpRequest) -> str:
    """The URL pattern's template (ours, finitely many), never the path itself."""
    probe_route = getattr(request, "probe_route", None)
    if probe_route:
        return probe_route
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else OTHER


def request_id_for(incoming: str) -> str:
    """The caller's X-Request-ID when sane, else a new one."""
    # 32 hex digits, as uuid4().hex gave, without building a UUID object per request.
    return incoming if _VALID_ID.match(incoming) else secrets.token_hex(16)


def http_request_observe(*, route: str, method: str | None, status: int, seconds: float) -> None:
    HTTP_LATENCY.labels(route).observe(seconds)
    HTTP_REQUESTS.labels(route, metric_method(method), str(status)).inc()


class RequestMetricsMiddleware:
    """Tags each request with an id (from X-Request-ID when sane) and counts it by route."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        http_request_observe(
            route=metric_route(request),
            method=request.method,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        response["X-Request-ID"] = request_id
        return response


class ProbeMiddleware:
    """Answers the probes before the host check and the HTTPS redirect.

    The kubelet and Prometheus reach a pod by its IP over plain HTTP: neither is in
    ALLOWED_HOSTS nor behind the TLS-terminating proxy, and both must still get answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.probes = {
            "/healthz": views.healthz,
            "/readyz": views.readyz,
            "/metrics": views.metrics,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is not None:
            request.probe_route = request.path_info.lstrip("/")
            response = probe(request)
            # Answered before SecurityMiddleware and XFrameOptionsMiddleware: their headers here.
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
            response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
            return response
        return self.get_response(request)


# Where platform_app.urls mounts the merchant API and the token center (it reads them here).
API_PREFIX = "/api/"
INTERNAL_PREFIX = "/internal/"
_BYPASSED = (API_PREFIX, INTERNAL_PREFIX)


class ApiBypassMiddleware:
    """Answers /api/ here: everything listed after this middleware serves browsers only.
    /internal/ (the token center, the same kind of API) is answered the same way.

    Sessions, CSRF, the auth user and messages do nothing for an API request (the merchant
    API authenticates its own Bearer keys, its views are CSRF-exempt, and every /api/ path
    resolves: the last pattern is a JSON 404), yet ran on each lookup. What Django's handler
    does between the last middleware and the view is done here for these views: resolve,
    call, render. An exception still reaches Django's handling (500 page, got_request_exception)
    through the wrapper Django puts around every middleware.

    The host check CommonMiddleware would make is made here: a Host outside ALLOWED_HOSTS
    raises DisallowedHost, which Django answers 400 and logs as a security event, as on
    every other path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(_BYPASSED):
            return self.get_response(request)
        request.get_host()  # raises DisallowedHost for a Host outside ALLOWED_HOSTS
        match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        render = getattr(response, "render", None)
        if callable(render):  # DRF's Response is a template response: render it as Django would
            response = render()
        return response
