"""The token center's other surfaces: a warm loan's cost, the command, the admin, OpenAPI."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from sandbox.demo import COFFEE_APPID

pytestmark = pytest.mark.django_db

TOKEN_URL = f"/internal/v1/authorizers/{COFFEE_APPID}/access-token"


def test_a_warm_loan_runs_no_sql(coffee, django_assert_num_queries, monkeypatch):
    from token_center.clients import service_client_create

    # The loan log's buffered writer is tested with the call log's (tests/api/test_call_log);
    # here its rows are only collected, so that what is counted is the loan's own path.
    rows = []
    monkeypatch.setattr("token_center.audit.log_row_add", rows.append)
    _, key = service_client_create(name="crm")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(TOKEN_URL).status_code == 200  # fills the client's and the account's cache
    with django_assert_num_queries(0):
        response = client.get(TOKEN_URL)
    assert response.status_code == 200
    assert response.json()["access_token"] == coffee.access_token
    assert [row.outcome for row in rows] == ["lent", "lent"]


def test_the_command_shows_the_key_once_and_stores_its_hash(merchant, capsys):
    from token_center.models import ServiceClient

    call_command("create_service_client", "crm", "--merchant", merchant.name, "--json")
    out = json.loads(capsys.readouterr().out)
    client = ServiceClient.objects.get(pk=out["service_client_id"])
    assert out["key"].startswith("wxs_") and out["scope"] == [merchant.name]
    assert out["key"] not in (client.key_hash, client.prefix) and not client.all_accounts
    assert list(client.merchants.all()) == [merchant]

    call_command("create_service_client", "sender")
    text = capsys.readouterr().out
    assert "all accounts" in text and re.search(r"wxs_\S{40,}", text)
    assert ServiceClient.objects.get(name="sender").all_accounts

    for args in (["crm"], ["x", "--merchant", "No such merchant"], [" "]):
        with pytest.raises(CommandError):
            call_command("create_service_client", *args)
    assert ServiceClient.objects.count() == 2


def test_the_admin_creates_a_client_showing_its_key_once_and_revokes_it(admin_client, merchant):
    from token_center.authentication import service_principal_for_key
    from token_center.models import ServiceClient

    response = admin_client.post(
        "/admin/token_center/serviceclient/add/",
        {"name": "crm", "merchants": [merchant.pk]},
    )
    assert response.status_code == 302, response.content[:2000]
    shown = admin_client.get(response["Location"])
    key = re.search(rb'value="(wxs_[^"]+)"', shown.content).group(1).decode()
    assert key.encode() not in admin_client.get(response["Location"]).content  # once
    client = ServiceClient.objects.get(name="crm")
    principal = service_principal_for_key(key, client_ip=None)
    assert principal.client_id == client.pk and principal.merchant_ids == {merchant.pk}

    admin_client.post(
        "/admin/token_center/serviceclient/",
        {"action": "revoke_clients", "_selected_action": [client.pk]},
    )
    assert ServiceClient.objects.get(pk=client.pk).is_revoked
    assert service_principal_for_key(key, client_ip=None) is None
    assert admin_client.get("/admin/token_center/serviceclient/?state=revoked").status_code == 200


def test_every_internal_endpoint_is_in_the_openapi_document_under_its_own_tag():
    schema = Client().get("/api/schema/?format=json").json()
    internal = {
        (method, path): operation
        for path, operations in schema["paths"].items()
        if path.startswith("/internal/v1/")
        for method, operation in operations.items()
    }
    assert set(internal) == {
        ("get", "/internal/v1/authorizers/{appid}/access-token"),
        ("post", "/internal/v1/authorizers/{appid}/access-token/invalid"),
        ("get", "/internal/v1/component/access-token"),
        ("post", "/internal/v1/component/access-token/invalid"),
    }
    for operation in internal.values():
        assert operation["tags"] == ["token center"]
        assert operation["security"] == [{"ServiceClientKey": []}]
    assert "refresh_token" not in json.dumps(list(internal.values()))


def test_a_scope_changed_from_either_side_wins_the_cached_credential(merchant):
    from authorizers.models import Merchant
    from token_center.authentication import service_principal_for_key
    from token_center.clients import service_client_create

    client, key = service_client_create(name="crm", merchant_names=[merchant.name])
    assert service_principal_for_key(key, client_ip=None).merchant_ids == {merchant.pk}
    merchant.service_clients.clear()
    assert service_principal_for_key(key, client_ip=None).merchant_ids == frozenset()
    other = Merchant.objects.create(name="Other")
    other.service_clients.add(client)
    assert service_principal_for_key(key, client_ip=None).merchant_ids == {other.pk}
    client.merchants.remove(other)
    assert service_principal_for_key(key, client_ip=None).merchant_ids == frozenset()
