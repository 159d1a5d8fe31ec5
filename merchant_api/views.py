"""The base of every merchant API view (API key, rate limit, call log), and the functions the
plain lookup view (merchant_api.plain_get) runs in the same order."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.http import JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from authorizers.selectors.tenant import authorizer_cache_keys, authorizer_get_for_merchant

from .authentication import ApiKeyAuthentication, ApiPrincipal, api_key_cache_keys, bearer_key
from .call_log import CallContext, api_call_record
from .errors import ApiError, NotFound, RateLimited
from .ratelimit import ApiKeyRateThrottle, Charge, rate_limit_prefetch


@dataclass(frozen=True)
class Prefetch:
    """The API key's and the authorizer's cache entries (and their generations, see
    core.versioned_cache), and the request's rate-limit token, read in one cache
    round trip.

    Every lookup needs all three; reading them together costs one Redis round trip instead
    of two (the reads, then the token). Misses are simply absent: each reader then falls back
    to its own lookup, and a token not taken ahead is charged by the throttle.
    """

    cached: dict
    charge: Charge | None
    # The key's cache entry name stands for the key (a hash: never the key itself).
    key_identity: str | None


def api_prefetch(*, raw_key: str | None, appid: str | None, charges: bool) -> Prefetch:
    """`charges`: whether the view spends one rate-limit token per request."""
    keys: list[str] = []
    identity = None
    if raw_key:
        entry_key, generation_key = api_key_cache_keys(raw_key)
        keys += [entry_key, generation_key]
        identity = entry_key
    if appid:  # the key is safe for any appid: the selector hashes odd ones
        keys.extend(authorizer_cache_keys(appid))
    cached, charge = rate_limit_prefetch(
        cache_keys=keys, key_identity=identity if charges else None
    )
    return Prefetch(cached, charge, identity)


def api_call_outcome_record(
    *, principal, context: CallContext, error: ApiError | None, status_code: int, started: float
) -> None:
    """The call log's row for one request, if it gets one."""
    if not isinstance(principal, ApiPrincipal):
        return  # unauthenticated: no merchant to file it under
    if isinstance(error, RateLimited) and error.wechat_errcode is None:
        return  # the key's own limit: counted in a metric, not logged row by row
    api_call_record(
        merchant_id=principal.merchant_id,
        api_key_id=principal.key_id,
        context=context,
        result=error.code if error else "ok",
        status_code=status_code,
        wechat_errcode=error.wechat_errcode if error else None,
        rid=error.rid if error else None,
        latency_ms=round((time.perf_counter() - started) * 1000),
    )


class MerchantApiView(APIView):
    """Bearer key, IsAuthenticated, the key's rate limit, the tenant, the call log row."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiKeyRateThrottle]
    # The name operators see in the call log.
    endpoint = ""

    def initial(self, request, *args, **kwargs):
        request.call = CallContext(endpoint=self.endpoint)
        prefetch = api_prefetch(
            raw_key=bearer_key(request),
            appid=kwargs.get("appid"),
            charges=ApiKeyRateThrottle in self.throttle_classes,
        )
        request.prefetched_cache = prefetch.cached
        request.rate_charge = prefetch.charge
        request.rate_key_identity = prefetch.key_identity
        super().initial(request, *args, **kwargs)

    def authorizer(self, appid: str):
        """The caller's own authorizer with this appid (404 for anyone else's)."""
        # The prefetch covered the URL's appid only.
        prefetched = self.request.prefetched_cache if appid == self.kwargs.get("appid") else None
        return authorizer_get_for_merchant(
            merchant_id=self.principal.merchant_id, appid=appid, prefetched=prefetched
        )

    @property
    def principal(self) -> ApiPrincipal:
        return self.request.user

    def dispatch(self, request, *args, **kwargs):
        started = time.perf_counter()
        response = super().dispatch(request, *args, **kwargs)
        request = self.request
        api_call_outcome_record(
            principal=getattr(request, "_user", None),
            context=getattr(request, "call", None) or CallContext(endpoint=self.endpoint),
            error=getattr(request, "api_error", None),
            status_code=response.status_code,
            started=started,
        )
        return response


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not Django's HTML page."""
    error = NotFound("No such API endpoint.")
    return JsonResponse(error.body(), status=error.status)
