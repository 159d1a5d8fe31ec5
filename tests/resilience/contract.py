"""What the merchant API may answer (SPEC 4.3), as checks shared by the resilience and
security suites: every response is a success or a documented error, never a 500."""

from __future__ import annotations

import json
from collections.abc import Mapping

# SPEC 4.3's table: code -> status.
DOCUMENTED = {
    "invalid_request": 400,
    "unauthenticated": 401,
    "not_found": 404,
    "permission_not_granted": 403,
    "account_not_eligible": 403,
    "authorizer_revoked": 410,
    "invalid_openid": 422,
    "openid_appid_mismatch": 422,
    "rate_limited": 429,
    "upstream_unavailable": 503,
    "upstream_error": 502,
}
# The caller's own HTTP mistakes answered as invalid_request at their own status: wrong method,
# unacceptable Accept, unsupported Content-Type, body too large. The table is silent on these.
HTTP_MISTAKES = {405, 406, 413, 415}
WITH_RETRY_AFTER = {"rate_limited", "upstream_unavailable"}
# Retrying these may succeed: WeChat busy or unreachable, the key's own bucket.
RETRYABLE = {"upstream_unavailable", "rate_limited"}


class ContractViolation(AssertionError):
    pass


def _error_detail(error: object, where: str) -> str:
    if not isinstance(error, dict):
        raise ContractViolation(f"{where}: error is not an object: {error!r}")
    code = error.get("code")
    if code not in DOCUMENTED:
        raise ContractViolation(f"{where}: undocumented error code {code!r}")
    if not isinstance(error.get("message"), str) or not error["message"]:
        raise ContractViolation(f"{where}: error without a message: {error!r}")
    if ("wechat_errcode" in error) != ("rid" in error):
        raise ContractViolation(f"{where}: wechat_errcode and rid go together: {error!r}")
    return str(code)


def check_api_response(status: int, headers: Mapping[str, str], body: bytes) -> str:
    """'ok' or the error code; raises ContractViolation for anything SPEC 4.3 does not allow."""
    if status >= 500 and status not in (502, 503):
        raise ContractViolation(f"HTTP {status}: {body[:300]!r}")
    ctype = headers.get("Content-Type", "")
    if not ctype.startswith("application/json"):
        raise ContractViolation(f"HTTP {status} with Content-Type {ctype!r}: {body[:200]!r}")
    try:
        payload = json.loads(body)
    except ValueError:
        raise ContractViolation(f"HTTP {status}: body is not JSON: {body[:200]!r}") from None
    if 200 <= status < 300:
        if not isinstance(payload, dict) or "error" in payload:
            raise ContractViolation(f"HTTP {status} with an error body: {payload!r}")
        for index, item in enumerate(payload.get("results") or []):
            if "error" in item:
                _error_detail(item["error"], f"results[{index}]")
            elif not isinstance(item.get("tagid_list"), list):
                raise ContractViolation(f"results[{index}] has neither tags nor error: {item!r}")
        return "ok"
    if not isinstance(payload, dict) or set(payload) != {"error"}:
        raise ContractViolation(f"HTTP {status}: not the error shape: {payload!r}")
    code = _error_detail(payload["error"], f"HTTP {status}")
    expected = DOCUMENTED[code]
    if status != expected and not (code == "invalid_request" and status in HTTP_MISTAKES):
        raise ContractViolation(f"{code} answered with HTTP {status}, SPEC says {expected}")
    if code in WITH_RETRY_AFTER:
        retry_after = headers.get("Retry-After", "")
        if not retry_after.isdigit() or int(retry_after) < 1:
            raise ContractViolation(f"{code} without a usable Retry-After: {retry_after!r}")
    return code
