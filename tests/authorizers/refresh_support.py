"""Helpers for the token refresh tests: authorizers that exist both here and in the sandbox."""

from __future__ import annotations

from datetime import timedelta

import requests
from django.utils import timezone

from authorizers.models import Authorizer, Merchant
from component.services.token import component_ticket_store
from sandbox.demo import COFFEE_APPID, demo_openid

AUTHORIZER_TOKEN_PATH = "/cgi-bin/component/api_authorizer_token"


def give_ticket(sandbox) -> None:
    """What the receiver does with a ticket push: the component can fetch its token."""
    component_ticket_store(ticket=sandbox.state.ticket, received_at=timezone.now())


def onboard(sandbox, appid: str = COFFEE_APPID, *, expires_in: float, merchant=None) -> Authorizer:
    """Authorize `appid` in the sandbox and store it with a token expiring in `expires_in` s.

    The stored access token is the one the sandbox issued, so it is valid there too.
    """
    grant = sandbox.state.authorize(appid)
    merchant = merchant or Merchant.objects.get_or_create(name="Refresh tests")[0]
    return Authorizer.objects.create(
        merchant=merchant,
        appid=appid,
        access_token=grant["authorizer_access_token"],
        access_token_expires_at=timezone.now() + timedelta(seconds=expires_in),
        refresh_token=grant["authorizer_refresh_token"],
        token_version=1,
    )


def refresh_calls(sandbox, appid: str | None = None) -> int:
    return sandbox.state.calls("api_authorizer_token", appid=appid)


def token_works(sandbox, appid: str, token: str) -> bool:
    """Ask the sandbox itself: getidlist with this token answers without an errcode."""
    response = requests.post(
        sandbox.base_url + "/cgi-bin/tags/getidlist",
        params={"access_token": token},
        json={"openid": demo_openid(appid, 0)},
        timeout=5,
    )
    return "errcode" not in response.json() or response.json()["errcode"] == 0


def sandbox_refresh_token(sandbox, appid: str) -> str:
    with sandbox.state.lock:
        return sandbox.state.authorizers[appid].refresh.current
