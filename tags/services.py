"""User tags on behalf of an authorizer: getidlist (one), user/info/batchget (bulk) and the
account's tag names.

Every entry point checks the capability from our own record first (SPEC section 5): a refused
request spends no WeChat call. A dead-token answer refreshes once and retries once, never
more. WeChat answers that concern the account rather than the openid (61007, 48001, 61003,
61023) end a bulk lookup; 61003/61023 also stop the authorizer (recorded through the
authorizers' status service), so this and every later request is refused like any stopped
account, without a call. Which API error each answer becomes is merchant_api.exceptions'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connections

from authorizers.capabilities import (
    CapabilityRefused,
    authorizer_inactive_refusal,
    capability_require,
)
from authorizers.models import Authorizer
from authorizers.services.status import authorizer_mark_reauth_required, authorizer_mark_revoked
from authorizers.services.tokens.call import RequestToken, authorizer_call
from authorizers.services.tokens.errors import AuthorizerTokenRefreshError, AuthorizerUnavailable
from wechat import errors as wx

from .capabilities import USER_TAGS
from .client import BATCHGET_MAX, TAGS_GET, TAGS_GETIDLIST, USER_INFO_BATCHGET, TagClient

logger = logging.getLogger("tags")

T = TypeVar("T")

# Errors about the account, not the openid: in a bulk lookup the rest would fail the same way.
_ACCOUNT_ERRORS = (
    AuthorizerUnavailable,
    AuthorizerTokenRefreshError,
    wx.WeChatQuotaExceeded,
    # Our record of the grant or the account type is stale: every openid gets the same answer.
    wx.WeChatPermissionSetMissing,
    wx.WeChatAccountNotEligible,
    # Only escapes _call after its one refresh and retry: each later openid would refresh again.
    wx.WeChatTokenInvalid,
)


@dataclass(frozen=True)
class TagLookup:
    openid: str
    tagid_list: list[int] | None = None
    error: Exception | None = None


def _account_status_record(authorizer: Authorizer, exc: wx.WeChatError) -> str | None:
    """Writes what an account-level WeChat answer says about the account: 61003 and 61023 stop
    it (the status it now has is returned); 61007 and 48001 say our record is stale, which is
    only logged (the next info sync corrects it). None when the account was not stopped."""
    if isinstance(exc, wx.WeChatPermissionSetMissing):
        logger.warning("%s: WeChat says 61007, our record of its grant is stale", authorizer.appid)
    elif isinstance(exc, wx.WeChatAccountNotEligible):
        logger.warning("%s: WeChat says 48001, our record of its type is stale", authorizer.appid)
    elif isinstance(exc, wx.WeChatAuthorizationRevoked):
        authorizer_mark_revoked(authorizer_id=authorizer.pk)
        return Authorizer.Status.REVOKED
    elif isinstance(exc, wx.WeChatRefreshTokenInvalid):
        authorizer_mark_reauth_required(authorizer_id=authorizer.pk)
        return Authorizer.Status.REAUTH_REQUIRED
    return None


def _call(token: RequestToken, api: str, request: Callable[[str], T]) -> T:
    """authorizer_call (local quota stop, refresh once and retry once), plus what an
    account-level answer means for the account."""
    try:
        return authorizer_call(token, api, request)
    except wx.WeChatError as exc:
        stopped = _account_status_record(token.authorizer, exc)
        if stopped is not None:
            # Stopped now: refused like any stopped account, WeChat's answer attached.
            raise authorizer_inactive_refusal(stopped, wechat_error=exc) from exc
        raise


def user_tagids_get(*, authorizer: Authorizer, openid: str) -> list[int]:
    capability_require(authorizer, USER_TAGS.name)
    client = TagClient()
    return _call(
        RequestToken(authorizer),
        TAGS_GETIDLIST,
        lambda access_token: client.get_tagid_list(access_token=access_token, openid=openid),
    )


class _Bulk:
    """One bulk lookup through user/info/batchget (100 followers a call, SPEC section 10): a
    shared token, and the first account-level error, which ends it.

    A batch WeChat refuses as a whole (40003/49003: one openid in it is not this account's
    follower) is split in halves until each culprit stands alone, and a culprit alone is
    asked with getidlist: which code batchget gives for which openid is not documented (a
    foreign openid may come back 40003 there and 49003 from getidlist), so every item gets
    the single lookup's answer. A few calls instead of one per openid; none extra when all
    are good.
    """

    def __init__(self, authorizer: Authorizer) -> None:
        self.token = RequestToken(authorizer)
        self.client = TagClient()
        self.stopped: Exception | None = None

    def batch(self, openids: list[str]) -> list[TagLookup]:
        try:
            return self._lookup(openids)
        finally:
            # A refresh or a status change may have opened this thread's own connection.
            for connection in connections.all(initialized_only=True):
                connection.close()

    def _lookup(self, openids: list[str]) -> list[TagLookup]:
        outcome = self._try(openids)
        return self._split(openids) if isinstance(outcome, _Refused) else outcome

    def _split(self, openids: list[str]) -> list[TagLookup]:
        """`openids` was refused as a whole: find the culprits. Halves first (one culprit in a
        hundred costs about 15 calls); when both halves fail too, culprits are many and each
        openid is asked alone (about n calls, as many as getidlist would have cost)."""
        if len(openids) == 1:
            return self._alone(openids[0])
        half = len(openids) // 2
        halves = [openids[:half], openids[half:]]
        outcomes = [self._try(part) for part in halves]
        if all(isinstance(outcome, _Refused) for outcome in outcomes):
            return [item for part in halves for openid in part for item in self._alone(openid)]
        found: list[TagLookup] = []
        for part, outcome in zip(halves, outcomes, strict=True):
            found += self._split(part) if isinstance(outcome, _Refused) else outcome
        return found

    def _alone(self, openid: str) -> list[TagLookup]:
        """One openid, asked with getidlist: the answer the single lookup gives."""
        if self.stopped is not None:
            return [TagLookup(openid, error=self.stopped)]
        try:
            tagids = _call(
                self.token,
                TAGS_GETIDLIST,
                lambda token: self.client.get_tagid_list(access_token=token, openid=openid),
            )
        except Exception as exc:
            return self._failed([openid], exc)
        return [TagLookup(openid, tagid_list=tagids)]

    def _try(self, openids: list[str]) -> list[TagLookup] | _Refused:
        """One batchget call: the items, or _Refused when WeChat refused the batch for an
        openid in it. An account-level failure ends the whole bulk (every item gets it)."""
        if self.stopped is not None:
            return [TagLookup(openid, error=self.stopped) for openid in openids]
        try:
            found = _call(
                self.token,
                USER_INFO_BATCHGET,
                lambda token: self.client.batchget_tagid_lists(access_token=token, openids=openids),
            )
        except (wx.WeChatInvalidOpenid, wx.WeChatOpenidMismatch) as exc:
            return _Refused(exc)
        except Exception as exc:
            return self._failed(openids, exc)
        return [_item(openid, found[openid]) for openid in openids]

    def _failed(self, openids: list[str], exc: Exception) -> list[TagLookup]:
        if _is_account_level(exc):
            self.stopped = exc
        if not isinstance(exc, wx.WeChatError | AuthorizerUnavailable) and not _is_domain(exc):
            logger.exception("bulk lookup of one batch failed unexpectedly")
        return [TagLookup(openid, error=exc) for openid in openids]


@dataclass(frozen=True)
class _Refused:
    error: wx.WeChatError


def _item(openid: str, tagids: list[int] | None) -> TagLookup:
    if tagids is None:
        error = wx.WeChatUserNotFollowing("subscribe: 0", api=USER_INFO_BATCHGET)
        return TagLookup(openid, error=error)
    return TagLookup(openid, tagid_list=tagids)


def _is_domain(exc: Exception) -> bool:
    return isinstance(exc, CapabilityRefused | AuthorizerTokenRefreshError)


def _is_account_level(exc: Exception) -> bool:
    return _is_domain(exc) or isinstance(exc, _ACCOUNT_ERRORS)


def user_tagids_get_bulk(*, authorizer: Authorizer, openids: list[str]) -> list[TagLookup]:
    """In request order; one openid's failure is its own. Duplicates are looked up once."""
    capability_require(authorizer, USER_TAGS.name)
    bulk = _Bulk(authorizer)
    bulk.token.get()  # a revoked or unrefreshable account fails the request, not each item
    unique = list(dict.fromkeys(openids))
    batches = [
        unique[start : start + BATCHGET_MAX] for start in range(0, len(unique), BATCHGET_MAX)
    ]
    workers = max(1, min(settings.TAGS_BULK_CONCURRENCY, len(batches)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tags-bulk") as pool:
        found = {item.openid: item for items in pool.map(bulk.batch, batches) for item in items}
    return [found[openid] for openid in openids]


def _names_key(appid: str) -> str:
    return f"tags:names:{appid}"


def tag_names_get(*, authorizer: Authorizer, expect_ids: tuple[int, ...] = ()) -> dict[int, str]:
    """The account's tag names, cached TAGS_NAMES_CACHE_SECONDS.

    A tag id missing from the cached names (a tag created since) refetches them once.
    """
    capability_require(authorizer, USER_TAGS.name)
    cached = cache.get(_names_key(authorizer.appid))
    if cached is not None:
        names = dict(cached)
        if all(tagid in names for tagid in expect_ids):
            return names
    client = TagClient()
    names = _call(
        RequestToken(authorizer), TAGS_GET, lambda token: client.get_tags(access_token=token)
    )
    cache.set(_names_key(authorizer.appid), list(names.items()), settings.TAGS_NAMES_CACHE_SECONDS)
    return names
