"""API keys from the merchant's page: created and shown once, revoked, CSRF-protected."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from .support import assert_no_secrets


def test_create_shows_the_key_once_then_never(admin_client, admin_world):
    from authorizers.models import ApiKey
    from authorizers.services.api_keys import api_key_authenticate

    merchant = admin_world.merchant
    create = reverse("admin:authorizers_merchant_api_key_create", args=[merchant.pk])
    response = admin_client.post(create, {"name": "staging"})
    assert response.status_code == 302
    api_key = ApiKey.objects.get(merchant=merchant, name="staging")
    assert response["Location"] == reverse(
        "admin:authorizers_merchant_api_key_created", args=[merchant.pk, api_key.pk]
    )
    # The redirect carries no key; the session holds it only encrypted.
    session_blob = str(dict(admin_client.session))
    first = admin_client.get(response["Location"])
    raw_key = first.context["raw_key"]
    assert raw_key and raw_key.startswith(api_key.prefix)
    assert raw_key not in session_blob and raw_key not in response["Location"]
    assert api_key_authenticate(raw_key=raw_key) == api_key
    assert "no-store" in first["Cache-Control"]
    assert raw_key in first.content.decode()

    again = admin_client.get(response["Location"])
    assert again.status_code == 200 and again.context["raw_key"] is None
    assert "cannot be shown again" in again.content.decode()
    secrets = [*admin_world.secrets, raw_key, api_key.key_hash]
    merchant_page = admin_client.get(
        reverse("admin:authorizers_merchant_change", args=[merchant.pk])
    )
    for page in (again, merchant_page):
        assert_no_secrets(page.content.decode(), secrets)
    assert f"{api_key.prefix}…" in merchant_page.content.decode()


def test_revoke_from_the_merchant_page(admin_client, admin_world):
    from authorizers.services.api_keys import api_key_authenticate

    key = admin_world.api_key
    url = reverse(
        "admin:authorizers_merchant_api_key_revoke", args=[admin_world.merchant.pk, key.pk]
    )
    confirm = admin_client.get(url)
    assert "Yes, revoke this key" in confirm.content.decode()
    assert api_key_authenticate(raw_key=admin_world.raw_key) is not None  # GET changes nothing
    response = admin_client.post(url, follow=True)
    assert "revoked: requests with it now get 401" in response.content.decode()
    assert api_key_authenticate(raw_key=admin_world.raw_key) is None
    key.refresh_from_db()
    assert key.is_revoked


def test_revoke_action_on_the_key_list(admin_client, admin_world):
    url = reverse("admin:authorizers_apikey_changelist")
    data = {"action": "revoke_keys", "_selected_action": [admin_world.api_key.pk]}
    response = admin_client.post(url, data, follow=True)
    assert "Revoked 1 API key(s)" in response.content.decode()
    admin_world.api_key.refresh_from_db()
    assert admin_world.api_key.is_revoked


def test_another_merchants_key_is_not_reachable(admin_client, admin_world):
    from authorizers.models import Merchant

    other = Merchant.objects.create(name="Other")
    url = reverse(
        "admin:authorizers_merchant_api_key_revoke", args=[other.pk, admin_world.api_key.pk]
    )
    assert admin_client.post(url).status_code == 404


def test_writes_need_the_csrf_token(admin_world, admin_user):
    from authorizers.models import ApiKey

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    merchant = admin_world.merchant
    before = ApiKey.objects.count()
    create = reverse("admin:authorizers_merchant_api_key_create", args=[merchant.pk])
    assert client.post(create, {"name": "x"}).status_code == 403
    revoke = reverse(
        "admin:authorizers_merchant_api_key_revoke", args=[merchant.pk, admin_world.api_key.pk]
    )
    assert client.post(revoke).status_code == 403
    action = {"action": "mark_revoked", "_selected_action": [admin_world.authorizers["usable"].pk]}
    assert (
        client.post(reverse("admin:authorizers_authorizer_changelist"), action).status_code == 403
    )
    assert ApiKey.objects.count() == before and ApiKey.objects.filter(revoked_at=None).count() == 1
