"""The one HTTP client every WeChat call goes through.

WeChat answers HTTP 200 with an errcode in the JSON body, so success is decided by the body.
Only what errors.RETRY classifies as Retry.NOW (-1, timeouts, connection errors) is retried
here (bounded, exponential backoff with full jitter): a 4xxxx answer will not change on a
retry, and retrying it only burns quota.
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

import requests
from requests.adapters import HTTPAdapter

from platform_app.logs import mask_secrets
from platform_app.metrics import WECHAT_CALLS, WECHAT_LATENCY

from .errors import (
    Retry,
    WeChatBadResponse,
    WeChatConnectionError,
    WeChatError,
    WeChatTimeout,
    error_for,
    retry_kind,
)

logger = logging.getLogger("platform_app.wechat")

_TOKEN_PARAMS = ("access_token", "component_access_token")


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
        self.session = requests.Session()
        # Proxy settings are read once from settings, not from os.environ on every call
        # (requests' per-request environment scan is a measurable share of a lookup's CPU).
        self.session.trust_env = False
        if config.proxy:
            self.session.proxies = {"http": config.proxy, "https": config.proxy}
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=config.pool_size, max_retries=0, pool_block=False
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

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
        url = self.config.base_url + path
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
                # A 307/308 would resend the body (component secret, auth codes) to wherever
                # Location points; WeChat never redirects an API call, so a 3xx is an error.
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            WECHAT_CALLS.labels(endpoint, "timeout").inc()
            raise WeChatTimeout(f"timed out: {type(exc).__name__}", api=path) from None
        except requests.RequestException as exc:
            WECHAT_CALLS.labels(endpoint, "connection_error").inc()
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
        logger.log(
            logging.INFO if errcode else logging.DEBUG,
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
    def _decode(response: requests.Response, path: str, endpoint: str) -> dict[str, Any]:
        if response.status_code >= 300:
            WECHAT_CALLS.labels(endpoint, f"http_{response.status_code}").inc()
            raise WeChatBadResponse(f"HTTP {response.status_code}", api=path)
        try:
            payload = json.loads(response.content)
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
