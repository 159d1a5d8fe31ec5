"""WeChat's diagnostics for an account's calls (protocol 1.10), with the account's token:
how much of a daily quota is left, and what WeChat recorded for a rid."""

from __future__ import annotations

from typing import Any

from .errors import WeChatBadResponse
from .transport import WeChatTransport, get_transport

API_QUOTA_GET = "/cgi-bin/openapi/quota/get"
API_RID_GET = "/cgi-bin/openapi/rid/get"


class OpenApiClient:
    def __init__(self, transport: WeChatTransport | None = None) -> None:
        self.transport = transport or get_transport()

    def quota_get(self, *, access_token: str, cgi_path: str) -> dict[str, int]:
        payload = self.transport.post(
            API_QUOTA_GET, params={"access_token": access_token}, body={"cgi_path": cgi_path}
        )
        quota = payload.get("quota")
        try:
            return {key: int(quota[key]) for key in ("daily_limit", "used", "remain")}
        except (TypeError, KeyError, ValueError):
            raise WeChatBadResponse(
                "quota lacks daily_limit/used/remain", api=API_QUOTA_GET
            ) from None

    def rid_get(self, *, access_token: str, rid: str) -> dict[str, Any]:
        payload = self.transport.post(
            API_RID_GET, params={"access_token": access_token}, body={"rid": rid}
        )
        request = payload.get("request")
        if not isinstance(request, dict):
            raise WeChatBadResponse("no request in the answer", api=API_RID_GET)
        return request
