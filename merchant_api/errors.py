"""The merchant API's errors: SPEC 4.3's table (code, HTTP status, default message).

Body: {"error": {"code", "message", "wechat_errcode", "rid"}}; the last two only when WeChat
answered. 429 and 503 carry Retry-After. What turns a failure into one of these is
merchant_api.exceptions, the one mapping.
"""

from __future__ import annotations


class ApiError(Exception):
    code = "internal_error"
    status = 500
    message = "Something went wrong on our side. Try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        wechat_errcode: int | None = None,
        rid: str | None = None,
        retry_after: int | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.wechat_errcode = wechat_errcode
        self.rid = rid
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.wechat_errcode is not None:
            error["wechat_errcode"] = self.wechat_errcode
            error["rid"] = self.rid
        return {"error": error}

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(self.retry_after)))
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return headers


class InvalidRequest(ApiError):
    code, status, message = "invalid_request", 400, "The request is malformed."


class Unauthenticated(ApiError):
    code, status = "unauthenticated", 401
    message = "A valid API key is required: send 'Authorization: Bearer <api key>'."


class NotFound(ApiError):
    code, status, message = "not_found", 404, "Not found."


class PermissionNotGranted(ApiError):
    code, status = "permission_not_granted", 403
    message = "The account did not grant the permission set this API needs."


class AccountNotEligible(ApiError):
    code, status = "account_not_eligible", 403
    message = "Only verified Service Accounts can use this API."


class AuthorizerRevoked(ApiError):
    code, status = "authorizer_revoked", 410
    message = "You withdrew this account's authorization in WeChat."


class InvalidOpenid(ApiError):
    code, status = "invalid_openid", 422
    message = "WeChat does not know this openid as a follower of the account."


class OpenidAppidMismatch(ApiError):
    code, status = "openid_appid_mismatch", 422
    message = "This openid belongs to another WeChat account."


class RateLimited(ApiError):
    code, status, message = "rate_limited", 429, "Too many requests. Retry after the given time."


class UpstreamUnavailable(ApiError):
    code, status, message = "upstream_unavailable", 503, "WeChat is unavailable. Retry later."


class UpstreamError(ApiError):
    code, status, message = "upstream_error", 502, "WeChat answered with an unexpected error."


# Every error class the API can answer with, for the OpenAPI document.
API_ERRORS: tuple[type[ApiError], ...] = (
    InvalidRequest,
    Unauthenticated,
    NotFound,
    PermissionNotGranted,
    AccountNotEligible,
    AuthorizerRevoked,
    InvalidOpenid,
    OpenidAppidMismatch,
    RateLimited,
    UpstreamUnavailable,
    UpstreamError,
)
