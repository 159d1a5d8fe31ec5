"""The one HTTP client every WeChat call goes through.

WeChat answers HTTP 200 with an errcode in the JSON body, so success is decided by the body.
Only what errors.RETRY classifies as Retry.NOW (-1, timeouts, connection errors) is retried
here (bounded, exponential backoff with full jitter): a 4xxxx answer will not change on a
retry, and retrying it only burns quota.

urllib3's pool directly rather than requests: every call is a JSON POST/GET to one host, and
requests' per-call work (request preparation, hooks, cookie jar, header merging) cost more
CPU than urllib3's whole call on the lookup hot path; nothing of it was used.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from core.logs import mask_secrets
from core.metrics import WECHAT_CALLS, WECHAT_LATENCY

from .errors import (
    Retry,
    WeChatBadResponse,
    WeChatConnectionError,
    WeChatError,
    WeChatTimeout,
    error_for,
    retry_kind,
)

logger = logging.getLogger("wechat")

_TOKEN_PARAMS = ("access_token", "component_access_token")
_NO_HEADERS: dict[str, str] = {}
_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class TransportConfig:
    base_url: str
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    max_attempts: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 2.0
    pool_size: int = 64
    proxy: str = ""


def _endpoint_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class WeChatTransport:
    def __init__(
        self, config: TransportConfig, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.config = config
        self._sleep = sleep  # tests pass a recorder: backoff without waiting
        self._rng = random.Random()
        self._timeout = urllib3.Timeout(connect=config.connect_timeout, read=config.read_timeout)
        # Proxy settings come from settings, read once, never from the environment per call.
        # retries=False: our loop below decides what is retried; urllib3 must not add its own.
        pool_options = {
            "num_pools": 4,
            "maxsize": config.pool_size,
            "block": False,
            "retries": False,
            "timeout": self._timeout,
            "ca_certs": certifi.where(),  # the same CA bundle requests used
        }
        # Every call goes to one host: its pool directly, without the manager's routing per
        # call. Through a proxy, the manager (it sends absolute URLs for plain HTTP).
        self._pool: urllib3.PoolManager | urllib3.HTTPConnectionPool
        if config.proxy:
            self._pool = urllib3.ProxyManager(config.proxy, **pool_options)
            self._url_prefix = config.base_url
        else:
            self._pool = urllib3.PoolManager(**pool_options).connection_from_url(config.base_url)
            self._url_prefix = urlsplit(config.base_url).path.rstrip("/")

    def post(
        self, path: str, *, params: dict[str, str] | None = None, body: dict | None = None
    ) -> dict[str, Any]:
        return self.request("POST", path, params=params, body=body if body is not None else {})

    def get(self, path: str, *, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict | None = None,
        max_attempts: int | None = None,
    ) -> dict[str, Any]:
        attempts = max_attempts or self.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, path, params or {}, body)
            except WeChatError as exc:
                if retry_kind(exc) is not Retry.NOW or attempt == attempts:
                    raise
                delay = self._backoff(attempt)
                logger.warning(
                    "wechat %s attempt %d/%d failed (%s), retrying in %.2fs",
                    path,
                    attempt,
                    attempts,
                    exc.errcode if exc.errcode is not None else type(exc).__name__,
                    delay,
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _attempt(
        self, method: str, path: str, params: dict[str, str], body: dict | None
    ) -> dict[str, Any]:
        endpoint = _endpoint_name(path)
        url = self._url_prefix + path
        if params:
            url += "?" + urlencode(params)
        data = None
        headers = _NO_HEADERS
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = _JSON_HEADERS
        started = time.perf_counter()
        try:
            response = self._pool.urlopen(
                method,
                url,
                body=data,
                headers=headers,
                # A 307/308 would resend the body (component secret, auth codes) to wherever
                # Location points; WeChat never redirects an API call, so a 3xx is an error.
                redirect=False,
            )
        except (Urllib3Error, OSError) as exc:
            # urllib3 files a refused connection under its timeouts: it is not one.
            timed_out = isinstance(exc, Urllib3Timeout) and not isinstance(exc, NewConnectionError)
            WECHAT_CALLS.labels(endpoint, "timeout" if timed_out else "connection_error").inc()
            if timed_out:
                raise WeChatTimeout(f"timed out: {type(exc).__name__}", api=path) from None
            raise WeChatConnectionError(
                f"connection failed: {type(exc).__name__}", api=path
            ) from None
        finally:
            WECHAT_LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        payload = self._decode(response, path, endpoint)
        errcode = payload.get("errcode", 0)
        if not isinstance(errcode, int):
            WECHAT_CALLS.labels(endpoint, "bad_response").inc()
            raise WeChatBadResponse(f"errcode is not a number: {errcode!r}", api=path)
        WECHAT_CALLS.labels(endpoint, str(errcode)).inc()
        # Successes are DEBUG: at hundreds of lookups a second they would drown the errors.
        level = logging.INFO if errcode else logging.DEBUG
        if logger.isEnabledFor(level):  # the masked URL is built only for a line that is kept
            logger.log(
                level,
                "wechat %s %s -> errcode %s in %.1f ms",
                method,
                masked_url(path, params),
                errcode,
                (time.perf_counter() - started) * 1000,
            )
        if errcode != 0:
            raise error_for(errcode, str(payload.get("errmsg", "")), api=path)
        return payload

    @staticmethod
    def _decode(response: urllib3.BaseHTTPResponse, path: str, endpoint: str) -> dict[str, Any]:
        if response.status >= 300:
            WECHAT_CALLS.labels(endpoint, f"http_{response.status}").inc()
            raise WeChatBadResponse(f"HTTP {response.status}", api=path)
        try:
            payload = json.loads(response.data)
        except ValueError:
            WECHAT_CALLS.labels(endpoint, "bad_response").inc()
            raise WeChatBadResponse("answer is not JSON", api=path) from None
        if not isinstance(payload, dict):
            WECHAT_CALLS.labels(endpoint, "bad_response").inc()
            raise WeChatBadResponse("answer is not a JSON object", api=path)
        return payload


def masked_url(path: str, params: dict[str, str]) -> str:
    shown = {k: ("***" if k in _TOKEN_PARAMS else v) for k, v in params.items()}
    query = "&".join(f"{k}={v}" for k, v in shown.items())
    return mask_secrets(f"{path}?{query}" if query else path)


_lock = threading.Lock()
_shared: dict[tuple[int, TransportConfig], WeChatTransport] = {}


def config_from_settings() -> TransportConfig:
    from django.conf import settings

    return TransportConfig(
        base_url=settings.WECHAT_API_BASE,
        connect_timeout=settings.WECHAT_CONNECT_TIMEOUT,
        read_timeout=settings.WECHAT_READ_TIMEOUT,
        max_attempts=settings.WECHAT_MAX_ATTEMPTS,
        backoff_base=settings.WECHAT_BACKOFF_BASE,
        backoff_max=settings.WECHAT_BACKOFF_MAX,
        pool_size=settings.WECHAT_POOL_SIZE,
        proxy=settings.WECHAT_PROXY,
    )


def get_transport() -> WeChatTransport:
    """One pooled transport per process and configuration.

    Keyed by pid so a forked Celery worker never shares its parent's sockets.
    """
    key = (os.getpid(), config_from_settings())
    transport = _shared.get(key)
    if transport is None:
        with _lock:
            transport = _shared.setdefault(key, WeChatTransport(key[1]))
    return transport
