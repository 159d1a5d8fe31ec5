"""Lending tokens to the provider's own services (SPEC 12), and what a report of a refused
token does. This service stays the one refresher: a borrower never refreshes, it asks.

A loan is the token the request path would use (authorizers.services.tokens.call's
RequestToken): from the cached account row while it has more than the safety margin left (no
query), else refreshed single-flight. A report compares the refused token with the current
one: the same → that token is dead, and RequestToken.renew runs the request path's forced
single-flight refresh (every report of the same token, in any process, waits for the one
refresh and gets its token); different → the borrower held an older token (or one that is not
ours), and gets the current one without a WeChat call.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from authorizers.selectors.tenant import authorizer_get_cached
from authorizers.services.tokens.call import RequestToken
from component.services.token import (
    component_access_token_current,
    component_access_token_replace,
)

from .authentication import ServicePrincipal


class ComponentOutOfScope(Exception):
    """A client scoped to some merchants asked for the component token."""


@dataclass(frozen=True)
class Loan:
    access_token: str
    expires_at: datetime
    # lent | refreshed | already_refreshed | not_current
    outcome: str
    authorizer_id: int | None = None


class LoanTarget:
    """What a request was about, for the audit row, filled in as it becomes known."""

    def __init__(self, appid: str = "") -> None:
        self.appid = appid
        self.authorizer_id: int | None = None


def _request_token(principal: ServicePrincipal, appid: str, target: LoanTarget) -> RequestToken:
    authorizer = authorizer_get_cached(appid=appid, merchant_ids=principal.merchant_ids)
    target.authorizer_id = authorizer.pk
    return RequestToken(authorizer)


def authorizer_token_lend(*, principal: ServicePrincipal, appid: str, target: LoanTarget) -> Loan:
    """AuthorizerNotFound (unknown or out of scope), AuthorizerUnavailable (stopped), or the
    refresh's own errors when the token had to be refreshed and WeChat refused."""
    token = _request_token(principal, appid, target).get()
    return Loan(token.token, token.expires_at, "lent", target.authorizer_id)


def authorizer_token_report(
    *, principal: ServicePrincipal, appid: str, refused: str, target: LoanTarget
) -> Loan:
    request_token = _request_token(principal, appid, target)
    current = request_token.get()
    if not hmac.compare_digest(refused.encode(), current.token.encode()):
        return Loan(current.token, current.expires_at, "not_current", target.authorizer_id)
    renewed = request_token.renew(current)
    outcome = "already_refreshed" if renewed.borrowed else "refreshed"
    return Loan(renewed.token, renewed.expires_at, outcome, target.authorizer_id)


def _component_scope_require(principal: ServicePrincipal) -> None:
    # The component token acts for the platform, across every merchant's accounts.
    if principal.merchant_ids is not None:
        raise ComponentOutOfScope()


def component_token_lend(*, principal: ServicePrincipal) -> Loan:
    _component_scope_require(principal)
    token, expires_at = component_access_token_current()
    return Loan(token, expires_at, "lent")


def component_token_report(*, principal: ServicePrincipal, refused: str) -> Loan:
    _component_scope_require(principal)
    token, expires_at = component_access_token_current()
    if not hmac.compare_digest(refused.encode(), token.encode()):
        return Loan(token, expires_at, "not_current")
    # Under the component row's lock: if another report replaced it meanwhile, that one.
    new_token, new_expires_at = component_access_token_replace(stale_token=refused)
    return Loan(new_token, new_expires_at, "refreshed")
