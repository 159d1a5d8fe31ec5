"""The database never holds a ticket, token, refresh token or authorization code in clear."""

import time

import pytest
from django.core.cache import cache
from django.db import connection

from component.services.token import _cache_key, component_access_token_get
from sandbox.demo import BOOKS_APPID

from .pushes import deliver, push_xml

pytestmark = pytest.mark.django_db

TABLES = (
    "component_componentstate",
    "component_componentevent",
    "authorizers_authorizer",
    "authorizers_apikey",
)


def _raw_dump() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_secret_in_clear_in_any_row(client, authorizer_factory, component_ready):
    account = authorizer_factory()
    ticket_xml = push_xml(
        "component_verify_ticket", int(time.time()), ComponentVerifyTicket="ticket@@@pushed-secret"
    )
    assert deliver(client, ticket_xml).status_code == 200
    code = component_ready.state.consent(BOOKS_APPID).auth_code
    authorized = push_xml(
        "authorized",
        int(time.time()),
        AuthorizerAppid=BOOKS_APPID,
        AuthorizationCode=code,
        PreAuthCode="preauthcode@@@pushed-secret",
    )
    assert deliver(client, authorized).status_code == 200  # its code waits, encrypted
    component_token = component_access_token_get()

    dump = _raw_dump()

    secrets = {
        "ticket": "ticket@@@pushed-secret",
        "component token": component_token,
        "access token": account.access_token,
        "refresh token": account.refresh_token,
        "authorization code": code,
        "pre_auth_code": "preauthcode@@@pushed-secret",
    }
    assert all(secrets.values())
    assert str(account.appid) in dump  # the dump does hold the rows
    leaked = [name for name, value in secrets.items() if value in dump]
    assert leaked == []
    # Nor does the cache (Redis in production).
    cached = cache.get(_cache_key())
    assert cached is not None and component_token not in repr(cached)
