"""Onboarding end to end over HTTP: the sandbox pushes to our live receiver, a browser
(requests) walks invite → WeChat's page → callback, and pushes change the stored account."""

import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings

from authorizers.models import Authorizer, Merchant
from authorizers.services.onboarding.invites import invite_create, invite_url
from component.models import ComponentEvent, ComponentState
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, SUBSCRIPTION_APPID
from tests.plugins.celery_worker import wait_until
from wechat.crypto import MessageCrypto

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def live_wechat(wechat_api, live_server, settings):
    """The sandbox pushes to our live receiver; the browser comes back to our live server."""
    settings.PUBLIC_BASE_URL = live_server.url
    wechat_api.pusher.callback_url = f"{live_server.url}/wechat/component/events/"
    record = wechat_api.push("component_verify_ticket")
    assert (record["status"], record["body"]) == (200, "success"), record
    return wechat_api


def _browse_onboarding(merchant) -> requests.Response:
    browser = requests.Session()
    landing = browser.get(invite_url(invite=invite_create(merchant=merchant)), timeout=10)
    assert landing.status_code == 200
    start = re.search(r'<a class="button" href="([^"]+)"', landing.text).group(1)
    return browser.get(settings.PUBLIC_BASE_URL + start, timeout=10)


def _settled(appid: str, info_type: str) -> None:
    """The sandbox pushes in the background: wait for the event and its follow-up."""
    wait_until(
        lambda: ComponentEvent.objects.filter(
            authorizer_appid=appid, info_type=info_type, status="applied"
        ).exists()
    )


def test_ticket_push_then_component_token(live_wechat):
    from component.services.token import component_access_token_get

    assert ComponentState.objects.get().verify_ticket == live_wechat.state.ticket
    assert component_access_token_get() == live_wechat.state.component_access.current


def test_invite_to_wechat_page_to_callback_stores_the_account(live_wechat, merchant):
    result = _browse_onboarding(merchant)

    assert result.status_code == 200, result.text
    start, login_page = result.history
    assert start.status_code == login_page.status_code == 302
    assert login_page.url.startswith(f"{live_wechat.base_url}/cgi-bin/componentloginpage?")
    query = parse_qs(urlsplit(login_page.url).query)
    assert query["component_appid"] == [settings.WECHAT_COMPONENT_APPID]
    assert query["auth_type"] == ["1"]
    assert query["redirect_uri"][0].startswith(f"{settings.PUBLIC_BASE_URL}/authorize/")
    _settled(COFFEE_APPID, "authorized")

    account = Authorizer.objects.get()
    sandbox_account = live_wechat.state.authorizers[COFFEE_APPID]
    assert account.appid == COFFEE_APPID
    assert account.merchant == merchant
    assert account.status == Authorizer.Status.ACTIVE
    assert account.permission_sets == [1, 2, 3]
    assert (account.service_type, account.verify_type) == (2, 0)
    assert account.nickname == "Demo Coffee"
    assert account.principal_name == sandbox_account.principal_name
    assert account.refresh_token == sandbox_account.refresh.current
    assert account.access_token == sandbox_account.access.current
    assert account.info_synced_at is not None
    # In words a merchant understands.
    assert "Demo Coffee is connected" in result.text
    assert "User management" in result.text
    assert "Service Account" in result.text
    assert re.search(r"User tags:\s*<span class=\"ok\">ready to use", result.text)


def test_subscription_account_result_says_why_tags_will_not_work(live_wechat, merchant):
    live_wechat.state.consent_appid = SUBSCRIPTION_APPID
    result = _browse_onboarding(merchant)
    _settled(SUBSCRIPTION_APPID, "authorized")

    assert result.status_code == 200
    account = Authorizer.objects.get(appid=SUBSCRIPTION_APPID)
    assert (account.service_type, account.merchant) == (0, merchant)
    assert "Subscription Account" in result.text
    assert "not available" in result.text
    assert "Only Service Accounts can look up user tags" in result.text


def test_updateauthorized_changes_permission_sets_and_account_type(live_wechat, authorizer_factory):
    account = authorizer_factory(appid=BOOKS_APPID)
    assert account.permission_sets == [1, 100]
    live_wechat.state.update_authorizer(BOOKS_APPID, {"verify_type": -1})

    record = live_wechat.push("updateauthorized", BOOKS_APPID, func_info=[1, 2, 7])

    assert (record["status"], record["body"]) == (200, "success")
    updated = Authorizer.objects.get(pk=account.pk)
    assert updated.merchant_id == account.merchant_id
    assert updated.permission_sets == [1, 2, 7]
    assert updated.verify_type == -1
    assert updated.refresh_token == live_wechat.state.authorizers[BOOKS_APPID].refresh.current
    assert updated.refresh_token != account.refresh_token


def test_unauthorized_revokes_at_once(live_wechat, authorizer_factory):
    account = authorizer_factory()

    record = live_wechat.push("unauthorized", COFFEE_APPID)

    assert (record["status"], record["body"]) == (200, "success")
    revoked = Authorizer.objects.get(pk=account.pk)
    assert revoked.status == Authorizer.Status.REVOKED
    assert revoked.revoked_at is not None
    assert revoked.access_token == ""
    assert revoked.access_token_expires_at is None


def test_replayed_push_does_nothing(live_wechat, authorizer_factory):
    account = authorizer_factory(appid=BOOKS_APPID)
    record = live_wechat.push("updateauthorized", BOOKS_APPID, func_info=[1, 2])
    after_first = Authorizer.objects.get(pk=account.pk)
    calls = live_wechat.state.calls("api_query_auth")

    params, body = live_wechat.pusher.crypto.encrypt_push(record["plaintext"])
    replay = requests.post(live_wechat.pusher.callback_url, params=params, data=body, timeout=5)

    assert (replay.status_code, replay.text) == (200, "success")
    assert live_wechat.state.calls("api_query_auth") == calls
    event = ComponentEvent.objects.get(info_type="updateauthorized")
    assert event.replays == 1
    assert Authorizer.objects.get(pk=account.pk).updated_at == after_first.updated_at


def _post(url, params, body):
    return requests.post(f"{url}?{urlencode(params)}", data=body, timeout=5)


def _counts():
    return (
        ComponentEvent.objects.count(),
        Authorizer.objects.count(),
        Merchant.objects.count(),
        ComponentState.objects.get().verify_ticket,
    )


def test_forged_pushes_do_nothing(live_wechat, authorizer_factory):
    authorizer_factory()
    url, before = live_wechat.pusher.callback_url, _counts()
    unauthorized = (
        f"<xml><AppId><![CDATA[{settings.WECHAT_COMPONENT_APPID}]]></AppId>"
        f"<CreateTime>{int(time.time())}</CreateTime><InfoType>unauthorized</InfoType>"
        f"<AuthorizerAppid>{COFFEE_APPID}</AuthorizerAppid></xml>"
    )
    key = settings.WECHAT_COMPONENT_ENCODING_AES_KEY
    forged = MessageCrypto("guessed-token", key, settings.WECHAT_COMPONENT_APPID)
    foreign = MessageCrypto(settings.WECHAT_COMPONENT_TOKEN, key, "wx0another0component")

    assert _post(url, *forged.encrypt_push(unauthorized)).status_code == 403
    assert _post(url, *foreign.encrypt_push(unauthorized)).status_code == 400
    params, _ = live_wechat.pusher.crypto.encrypt_push(unauthorized)
    assert _post(url, params, b"\x00garbage").status_code == 400

    assert _counts() == before
    assert Authorizer.objects.get().status == Authorizer.Status.ACTIVE
