"""An authorizer's token for the length of one request, shared by its threads, and the one
rule for calling WeChat with it (refresh once, retry once).

A request takes the token once (no SQL while the cached one is valid). A dead-token answer
renews it at most once per token version, whichever thread saw it first: the other threads
of a bulk lookup that fail with the same stale token get the renewed one without a second
refresh. The refresh itself is single-flight across processes (authorizers.services.tokens.refresh).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from authorizers.models import Authorizer
from authorizers.selectors.tenant import authorizer_cache_forget
from authorizers.services.quota.stops import authorizer_quota_check, authorizer_quota_stop
from authorizers.services.tokens.refresh import (
    authorizer_get_access_token,
    authorizer_refresh_access_token,
)
from authorizers.services.tokens.state import AccessToken, token_state_copy
from wechat.errors import WeChatQuotaExceeded, WeChatTokenInvalid


class RequestToken:
    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    def get(self) -> AccessToken:
        with self._lock:
            if self._token is None:
                cached_version = self.authorizer.token_version
                self._token = authorizer_get_access_token(authorizer=self.authorizer)
                if self._token.version != cached_version:
                    # It was refreshed on the way: the cached row holds a dead token.
                    authorizer_cache_forget(appid=self.authorizer.appid)
            return self._token

    def renew(self, stale: AccessToken) -> AccessToken:
        with self._lock:
            if self._token is not None and self._token.version != stale.version:
                return self._token
            # WeChat called this token dead, so its expiry time means nothing: force. If the row
            # moved past the stale version, someone already refreshed and that token comes
            # back without a WeChat call.
            token = authorizer_refresh_access_token(
                authorizer_id=self.authorizer.pk, stale_version=stale.version, force=True
            )
            # Like authorizer_get_access_token, keep the instance current: a later
            # RequestToken of this request (expand=names) must not start from the dead token.
            token_state_copy(target=self.authorizer, token=token)
            self._token = token
            authorizer_cache_forget(appid=self.authorizer.appid)
            return token


T = TypeVar("T")


def authorizer_call(token: RequestToken, api: str, request: Callable[[str], T]) -> T:
    """One call of WeChat API `api` with the authorizer's token: refused locally while the
    account's quota for it is used up; on a dead token, retry with a newer one if another
    writer stored it, else refresh once and retry once, never more; a 45009 stops the API
    locally until WeChat's midnight."""
    authorizer_quota_check(authorizer=token.authorizer, api=api)
    current = token.get()
    try:
        try:
            return request(current.token)
        except WeChatTokenInvalid:
            renewed = token.renew(current)
        try:
            return request(renewed.token)
        except WeChatTokenInvalid:
            if not renewed.borrowed:
                raise  # WeChat killed the token it just issued to us: only later can help
            # The newer token someone else stored was dead too (killed out of band after it
            # was stored): this call's own refresh, its one retry, and no further.
            return request(token.renew(renewed).token)
    except WeChatQuotaExceeded as exc:
        authorizer_quota_stop(authorizer=token.authorizer, api=api, error=exc)
        raise
