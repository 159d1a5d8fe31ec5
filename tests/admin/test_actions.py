"""The authorizer actions against the sandbox: what the operator is told, and what changed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sandbox.demo import BAKERY_APPID, COFFEE_APPID

CHANGELIST = "admin:authorizers_authorizer_changelist"


def _act(client, action, *authorizers, **extra):
    data = {"action": action, "_selected_action": [a.pk for a in authorizers], **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def coffee(authorizer_factory):
    return authorizer_factory(appid=COFFEE_APPID)


def test_refresh_token_now(admin_client, coffee, wechat_api):
    response = _act(admin_client, "refresh_token_now", coffee)
    assert response.status_code == 200
    [message] = _messages(response)
    assert re.match(
        rf"Demo Coffee \({COFFEE_APPID}\): new access token, expires in 1 h 5\d min", message
    )
    old_version = coffee.token_version
    coffee.refresh_from_db()
    assert coffee.token_version == old_version + 1
    assert coffee.access_token not in response.content.decode()


def test_refresh_when_wechat_is_busy_is_a_message_not_a_500(admin_client, coffee, wechat_api):
    wechat_api.set_faults(error_rate=1.0, path_prefix="/cgi-bin/component/api_authorizer_token")
    response = _act(admin_client, "refresh_token_now", coffee)
    assert response.status_code == 200
    [message] = _messages(response)
    assert "WeChat is busy or unreachable right now; try again in a minute" in message
    assert "errcode -1" in message


def test_refresh_a_revoked_account(admin_client, coffee):
    from authorizers.services.status import authorizer_mark_revoked

    authorizer_mark_revoked(authorizer_id=coffee.pk)
    [message] = _messages(_act(admin_client, "refresh_token_now", coffee))
    assert "not possible: the account is 'Revoked by the merchant'" in message


def test_sync_info(admin_client, authorizer_factory):
    bakery = authorizer_factory(appid=BAKERY_APPID)
    [message] = _messages(_act(admin_client, "sync_info", bakery))
    assert "synced: Demo Bakery, Service Account, Verified; permission sets: 1 " in message


def test_mark_revoked_asks_first_and_returns_to_the_account_page(admin_client, coffee):
    from authorizers.models import Authorizer

    confirm = _act(admin_client, "mark_revoked", coffee)
    assert "Mark accounts revoked?" in confirm.content.decode()
    coffee.refresh_from_db()
    assert coffee.status == Authorizer.Status.ACTIVE
    page = reverse("admin:authorizers_authorizer_change", args=[coffee.pk])
    response = _act(admin_client, "mark_revoked", coffee, confirm="yes", _next=page)
    assert response.redirect_chain[-1][0] == page
    assert "marked revoked" in _messages(response)[0]
    coffee.refresh_from_db()
    assert coffee.status == Authorizer.Status.REVOKED and coffee.access_token == ""


def test_next_must_stay_on_this_site(admin_client, coffee):
    response = _act(admin_client, "sync_info", coffee, _next="https://evil.example/")
    assert response.redirect_chain[-1][0] == reverse(CHANGELIST)


def test_mark_revoked_twice_says_nothing_changed(admin_client, coffee):
    _act(admin_client, "mark_revoked", coffee, confirm="yes")
    [message] = _messages(_act(admin_client, "mark_revoked", coffee, confirm="yes"))
    assert message.endswith("was already revoked; nothing changed.")
