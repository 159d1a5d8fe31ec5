"""Fixtures of the token center's tests: an onboarded sandbox account, service clients."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.demo import COFFEE_APPID


@dataclass
class Borrower:
    """A service client as its service holds it: the key, and where to send it."""

    base_url: str
    raw_key: str
    client_id: int

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw_key}"}

    def token_url(self, appid: str = COFFEE_APPID) -> str:
        return f"{self.base_url}/internal/v1/authorizers/{appid}/access-token"

    def invalid_url(self, appid: str = COFFEE_APPID) -> str:
        return self.token_url(appid) + "/invalid"


@pytest.fixture
def coffee(authorizer_factory):
    return authorizer_factory(appid=COFFEE_APPID)


@pytest.fixture
def make_borrower(live_server):
    from token_center.clients import service_client_create

    def make(name: str = "crm", merchants: tuple[str, ...] = (), **limits) -> Borrower:
        client, raw_key = service_client_create(name=name, merchant_names=merchants, **limits)
        return Borrower(live_server.url, raw_key, client.pk)

    return make
