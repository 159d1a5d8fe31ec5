"""The base of every merchant API view: API key, rate limit, call log."""

from __future__ import annotations

import time

from django.http import JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from authorizers.selectors.tenant import authorizer_cache_keys, authorizer_get_for_merchant

from .authentication import ApiKeyAuthentication, ApiPrincipal, api_key_cache_keys, bearer_key
from .call_log import CallContext, api_call_record
from .errors import NotFound, RateLimited
from .ratelimit import ApiKeyRateThrottle, rate_limit_prefetch


class MerchantApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [ApiKeyRateThrottle]
    # The name operators see in the call log.
    endpoint = ""

    def initial(self, request, *args, **kwargs):
        request.call = CallContext(endpoint=self.endpoint)
        self._prefetch(request, kwargs.get("appid"))
        super().initial(request, *args, **kwargs)

    def _prefetch(self, request, appid: str | None) -> None:
        """The API key's and the authorizer's cache entries (and their generations, see
        platform_app.versioned_cache), and the request's rate-limit token, in one cache
        round trip.

        Every lookup needs all three; reading them together takes one Redis round trip where
        there were two (the reads, then the token). Misses are simply absent: each reader then
        falls back to its own lookup, and a token not taken ahead is charged by the throttle.
        """
        keys: list[str] = []
        request.rate_key_identity = None
        raw_key = bearer_key(request)
        if raw_key:
            entry_key, generation_key = api_key_cache_keys(raw_key)
            keys += [entry_key, generation_key]
            # The key's cache entry name stands for the key (a hash: never the key itself).
            request.rate_key_identity = entry_key
        if appid:  # the key is safe for any appid: the selector hashes odd ones
            keys.extend(authorizer_cache_keys(appid))
        charges_here = ApiKeyRateThrottle in self.throttle_classes
        request.prefetched_cache, request.rate_charge = rate_limit_prefetch(
            cache_keys=keys, key_identity=request.rate_key_identity if charges_here else None
        )

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
        self._record(response, started)
        return response

    def _record(self, response, started: float) -> None:
        request = self.request
        principal = getattr(request, "_user", None)
        if not isinstance(principal, ApiPrincipal):
            return  # unauthenticated: no merchant to file it under
        error = getattr(request, "api_error", None)
        if isinstance(error, RateLimited) and error.wechat_errcode is None:
            return  # the key's own limit: counted in a metric, not logged row by row
        api_call_record(
            merchant_id=principal.merchant_id,
            api_key_id=principal.key_id,
            context=getattr(request, "call", None) or CallContext(endpoint=self.endpoint),
            result=error.code if error else "ok",
            status_code=response.status_code,
            wechat_errcode=error.wechat_errcode if error else None,
            rid=error.rid if error else None,
            latency_ms=round((time.perf_counter() - started) * 1000),
        )


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error shape, not Django's HTML page."""
    error = NotFound("No such API endpoint.")
    return JsonResponse(error.body(), status=error.status)
