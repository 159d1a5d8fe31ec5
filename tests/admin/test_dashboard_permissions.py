"""The dashboard shows each section only to staff with the matching view permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

SECTIONS = {
    "component": "component.view_componentstate",
    "by-status": "authorizers.view_authorizer",
    "by-eligibility": "authorizers.view_authorizer",
    "expiring": "authorizers.view_authorizer",
    "needing-reauth": "authorizers.view_authorizer",
    "traffic": "authorizers.view_apicall",
    "recent-errors": "authorizers.view_apicall",
}


def _staff(*perms: str, superuser: bool = False) -> Client:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        f"op{len(perms)}{superuser}", password="pw-0123456789", is_staff=True
    )
    user.is_superuser = superuser
    user.save()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


def _dashboard(client: Client) -> str:
    response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_staff_without_view_permissions_sees_no_data(admin_world):
    html = _dashboard(_staff())
    for section in SECTIONS:
        assert f'id="{section}"' not in html, section
    for secret in ("Demo Gone", "Acme Coffee", "wx1000000000000002", "upstream_unavailable"):
        assert secret not in html
    assert "permission" in html.lower()  # says why the page is empty


def test_view_authorizer_alone_shows_accounts_but_no_merchant_or_calls(admin_world):
    html = _dashboard(_staff("authorizers.view_authorizer"))
    for section, perm in SECTIONS.items():
        assert (f'id="{section}"' in html) == (perm == "authorizers.view_authorizer"), section
    assert "Demo Gone" in html
    assert "Acme Coffee" not in html  # merchants need view_merchant
    assert "upstream_unavailable" not in html


def test_view_apicall_alone_shows_traffic_only(admin_world):
    html = _dashboard(_staff("authorizers.view_apicall"))
    assert 'id="traffic"' in html and 'id="recent-errors"' in html
    assert 'id="by-status"' not in html and "Demo Gone" not in html
    assert "upstream_unavailable" in html
    assert "Acme Coffee" not in html


@pytest.mark.parametrize("superuser", [True])
def test_superuser_sees_every_section(admin_world, superuser):
    html = _dashboard(_staff(superuser=superuser))
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert "Acme Coffee" in html and "Demo Gone" in html and "upstream_unavailable" in html
