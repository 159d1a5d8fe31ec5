"""What each operator may do from a merchant's page: an invite link hands an Official Account
to the merchant, so it needs the change permission, not only view; the holding merchant's
accounts are nobody's, so it has no API keys (one would list every parked account)."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient


def _staff(name: str, *codenames: str) -> Client:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(name, password="pw-0123456789", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="authorizers", codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


def _merchant_page(client: Client, merchant) -> str:
    response = client.get(reverse("admin:authorizers_merchant_change", args=[merchant.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_invite_link_needs_the_change_permission(admin_world):
    merchant = admin_world.merchant
    viewer = _merchant_page(_staff("viewer", "view_merchant"), merchant)
    assert "Acme Coffee" in viewer  # the read-only page itself is shown
    assert "/authorize/" not in viewer and 'id="invite-link"' not in viewer
    assert 'id="create-api-key"' not in viewer

    editor = _merchant_page(_staff("editor", "view_merchant", "change_merchant"), merchant)
    assert 'id="invite-link"' in editor and "/authorize/" in editor


def test_the_holding_merchant_gets_no_api_key(admin_client, db):
    from authorizers.models import ApiKey
    from authorizers.services.onboarding.holding import merchant_holding_get

    holding = merchant_holding_get()
    page = _merchant_page(admin_client, holding)
    assert 'id="create-api-key"' not in page and 'id="invite-link"' not in page

    create = reverse("admin:authorizers_merchant_api_key_create", args=[holding.pk])
    for response in (admin_client.get(create), admin_client.post(create, {"name": "parked"})):
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:authorizers_merchant_change", args=[holding.pk]
        )
    assert not ApiKey.objects.filter(merchant=holding).exists()
    shown = admin_client.get(reverse("admin:authorizers_merchant_change", args=[holding.pk]))
    assert "has no API keys" in shown.content.decode()


def test_a_key_of_the_holding_merchant_does_not_authenticate(db):
    """However it was made (before this rule, or straight in the database)."""
    from authorizers.models import ApiKey
    from authorizers.services.onboarding.holding import merchant_holding_get

    raw_key = "wxt_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(
        merchant=merchant_holding_get(),
        prefix=raw_key[:12],
        key_hash=hashlib.sha256(raw_key.encode()).hexdigest(),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.get("/api/v1/authorizers/").status_code == 401
