"""The authorizer-side tag endpoints (protocol section 1.11), called with an authorizer token.

This client knows paths and payload shapes only; which token to use, refusals and the
refresh-and-retry-once policy live in tags.services.
"""

from __future__ import annotations

from wechat.errors import WeChatBadResponse
from wechat.transport import get_transport

TAGS_GETIDLIST = "/cgi-bin/tags/getidlist"
TAGS_GET = "/cgi-bin/tags/get"
USER_INFO_BATCHGET = "/cgi-bin/user/info/batchget"
BATCHGET_MAX = 100  # followers per batchget call (protocol 1.12)


class TagClient:
    def __init__(self) -> None:
        self.transport = get_transport()

    def get_tagid_list(self, *, access_token: str, openid: str) -> list[int]:
        payload = self.transport.post(
            TAGS_GETIDLIST, params={"access_token": access_token}, body={"openid": openid}
        )
        tagids = payload.get("tagid_list", [])
        if not isinstance(tagids, list) or not all(isinstance(t, int) for t in tagids):
            raise WeChatBadResponse("tagid_list is not a list of numbers", api=TAGS_GETIDLIST)
        return tagids

    def get_tags(self, *, access_token: str) -> dict[int, str]:
        payload = self.transport.get(TAGS_GET, params={"access_token": access_token})
        tags = payload.get("tags", [])
        try:
            return {int(tag["id"]): str(tag["name"]) for tag in tags}
        except (TypeError, KeyError, ValueError):
            raise WeChatBadResponse("tags is not a list of {id, name}", api=TAGS_GET) from None

    def batchget_tagid_lists(
        self, *, access_token: str, openids: list[str]
    ) -> dict[str, list[int] | None]:
        """user/info/batchget: openid -> its tagid_list, or None for a user who does not
        follow the account (`subscribe: 0`, which carries no tags)."""
        payload = self.transport.post(
            USER_INFO_BATCHGET,
            params={"access_token": access_token},
            body={"user_list": [{"openid": openid, "lang": "zh_CN"} for openid in openids]},
        )
        found: dict[str, list[int] | None] = {}
        for user in payload.get("user_info_list") or []:
            openid = user.get("openid") if isinstance(user, dict) else None
            if not isinstance(openid, str):
                raise WeChatBadResponse("a user without an openid", api=USER_INFO_BATCHGET)
            tagids = user.get("tagid_list") if user.get("subscribe") == 1 else None
            if tagids is not None and not (
                isinstance(tagids, list) and all(isinstance(t, int) for t in tagids)
            ):
                raise WeChatBadResponse(
                    "tagid_list is not a list of numbers", api=USER_INFO_BATCHGET
                )
            found[openid] = tagids
        if set(found) != set(openids):
            raise WeChatBadResponse("the answer does not cover the batch", api=USER_INFO_BATCHGET)
        return found
