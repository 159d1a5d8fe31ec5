"""The admin is for the service provider's staff only: every admin URL sends anyone else to
the login page (anonymous users, and logged-in users who are not staff)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _admin_urls(objects) -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls += [
            reverse("admin:{}_{}_changelist".format(*info)),
            reverse("admin:{}_{}_add".format(*info)),
        ]
        for obj in objects:
            if isinstance(obj, model):
                urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
                urls.append(reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]))
    return urls


@pytest.mark.parametrize("who", ["anonymous", "not_staff", "inactive_staff"])
def test_admin_requires_staff(who, merchant, authorizer_factory):
    from authorizers.services.api_keys import api_key_create

    coffee = authorizer_factory()
    api_key, _ = api_key_create(merchant=merchant)
    client = Client()
    if who != "anonymous":
        user = User.objects.create_user(
            "someone", password="pw-0123456789", is_staff=who == "inactive_staff"
        )
        if who == "inactive_staff":
            user.is_active = False
            user.save()
        client.force_login(user)
    login = reverse("admin:login")
    urls = _admin_urls([merchant, coffee, api_key])
    assert len(urls) > 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(login), url
        posted = client.post(url, {"name": "x", "action": "delete_selected"})
        assert posted.status_code in (302, 403), url
    # Nothing was changed by the refused posts.
    from authorizers.models import Merchant

    assert Merchant.objects.get(pk=merchant.pk).name == merchant.name
