"""The component endpoints of WeChat's Open Platform, called with the component token.

A dead component token (40001/40014/42001/42006) is refreshed once, single-flight, and the
call retried once; a second dead-token answer is raised, never looped on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from wechat.errors import WeChatTokenInvalid
from wechat.transport import get_transport

from .services import token as component_token

API_CREATE_PREAUTHCODE = "/cgi-bin/component/api_create_preauthcode"
API_QUERY_AUTH = "/cgi-bin/component/api_query_auth"
API_AUTHORIZER_TOKEN = "/cgi-bin/component/api_authorizer_token"
API_GET_AUTHORIZER_INFO = "/cgi-bin/component/api_get_authorizer_info"
API_GET_AUTHORIZER_LIST = "/cgi-bin/component/api_get_authorizer_list"
API_CLEAR_QUOTA = "/cgi-bin/component/clear_quota/v2"


class ComponentClient:
    def __init__(self) -> None:
        self.transport = get_transport()
        self.appid = settings.WECHAT_COMPONENT_APPID

    def _call(
        self, path: str, body: dict[str, Any], *, max_attempts: int | None = None
    ) -> dict[str, Any]:
        token = component_token.component_access_token_get()
        try:
            return self._post(path, token, body, max_attempts)
        except WeChatTokenInvalid:
            # A dead component token: WeChat refused before acting, so even a single-use
            # code is still unused and the call may be repeated with a fresh token.
            fresh = component_token.component_access_token_refresh(stale_token=token)
            return self._post(path, fresh, body, max_attempts)

    def _post(
        self, path: str, token: str, body: dict[str, Any], max_attempts: int | None
    ) -> dict[str, Any]:
        return self.transport.request(
            "POST",
            path,
            params={"component_access_token": token},
            body={"component_appid": self.appid, **body},
            max_attempts=max_attempts,
        )

    def create_preauthcode(self) -> dict[str, Any]:
        return self._call(API_CREATE_PREAUTHCODE, {})

    def query_auth(self, authorization_code: str) -> dict[str, Any]:
        """One attempt only: after a timeout WeChat may have exchanged the single-use code, and
        a retry would get 61009 while the grant it issued is lost. Callers recover through
        api_get_authorizer_info, which returns the refresh token once the code was exchanged."""
        return self._call(
            API_QUERY_AUTH, {"authorization_code": authorization_code}, max_attempts=1
        )

    def authorizer_token(self, authorizer_appid: str, refresh_token: str) -> dict[str, Any]:
        return self._call(
            API_AUTHORIZER_TOKEN,
            {"authorizer_appid": authorizer_appid, "authorizer_refresh_token": refresh_token},
        )

    def get_authorizer_info(self, authorizer_appid: str) -> dict[str, Any]:
        return self._call(API_GET_AUTHORIZER_INFO, {"authorizer_appid": authorizer_appid})

    def get_authorizer_list(self, *, offset: int, count: int) -> dict[str, Any]:
        return self._call(API_GET_AUTHORIZER_LIST, {"offset": offset, "count": count})

    def clear_quota(self, authorizer_appid: str) -> None:
        """Reset an account's daily quotas with the component secret: no token, so it works
        when the account's own token is stuck. One attempt: each success spends one of the
        account's 10 monthly resets, and a retry after a timeout could spend two."""
        self.transport.request(
            "POST",
            API_CLEAR_QUOTA,
            body={
                "component_appid": self.appid,
                "appsecret": settings.WECHAT_COMPONENT_APPSECRET,
                "appid": authorizer_appid,
            },
            max_attempts=1,
        )
