"""Onboarding pages over Django's test client, against the sandbox: invites, start, callback."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from authorizers.models import Authorizer, Merchant
from authorizers.services.onboarding.invites import (
    INVITE_SALT,
    InviteInvalid,
    invite_create,
    invite_merchant_get,
)
from authorizers.services.sync import authorizer_sync_info
from sandbox.demo import COFFEE_APPID

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(merchant):
    return invite_create(merchant=merchant)


def _callback(client, invite, **query):
    return client.get(f"/authorize/{invite}/callback/", query)


def test_landing_has_a_button_to_start(client, invite, merchant):
    page = client.get(f"/authorize/{invite}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/authorize/{invite}/start/"' in html
    assert merchant.name in html
    assert "<script" not in html and "//cdn" not in html  # self-contained
    assert page["Cache-Control"] == "no-store"
    # WeChat checks the referring domain: our origin (only) must reach it.
    assert page["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("step", ["", "start/", "callback/?auth_code=x"])
def test_a_forged_invite_is_a_plain_400_page(client, invite, step):
    page = client.get(f"/authorize/{invite}x/{step}")
    assert page.status_code == 400
    assert "This link is not valid" in page.content.decode()


def test_an_expired_invite_is_refused(client, invite, settings):
    settings.INVITE_MAX_AGE_SECONDS = -1
    assert client.get(f"/authorize/{invite}/").status_code == 400
    with pytest.raises(InviteInvalid):
        invite_merchant_get(invite=invite)


def test_an_invite_for_an_inactive_merchant_is_refused(client, invite, merchant):
    Merchant.objects.filter(pk=merchant.pk).update(is_active=False)
    assert client.get(f"/authorize/{invite}/").status_code == 400


def test_an_invite_signed_for_something_else_is_refused(merchant):
    with pytest.raises(InviteInvalid):
        invite_merchant_get(invite=signing.dumps(merchant.pk, salt="other"))
    assert invite_merchant_get(invite=signing.dumps(merchant.pk, salt=INVITE_SALT)) == merchant


def test_start_redirects_to_the_wechat_page(client, invite, component_ready, settings):
    response = client.get(f"/authorize/{invite}/start/")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{settings.WECHAT_MP_BASE}/cgi-bin/componentloginpage?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["component_appid"] == settings.WECHAT_COMPONENT_APPID
    assert query["pre_auth_code"].startswith("preauthcode@@@")
    assert query["redirect_uri"] == f"{settings.PUBLIC_BASE_URL}/authorize/{invite}/callback/"
    assert query["auth_type"] == "1"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_start_before_any_ticket_says_not_ready(client, invite, wechat_api):
    page = client.get(f"/authorize/{invite}/start/")
    assert page.status_code == 503
    assert "try again in a few minutes" in page.content.decode()


def test_start_when_wechat_is_down_is_a_friendly_page(client, invite, component_ready):
    component_ready.set_faults(error_rate=1.0)
    page = client.get(f"/authorize/{invite}/start/")
    assert page.status_code == 502
    assert "WeChat did not answer as expected" in page.content.decode()


def test_callback_without_a_code(client, invite, component_ready):
    page = _callback(client, invite)
    assert page.status_code == 400
    assert "not confirmed" in page.content.decode()


def test_callback_with_a_bad_code_changes_nothing(client, invite, component_ready):
    page = _callback(client, invite, auth_code="queryauthcode@@@forged", expires_in=600)
    assert page.status_code == 400
    assert "expired or was already used" in page.content.decode()
    assert Authorizer.objects.count() == 0


def test_callback_when_wechat_is_unreachable_is_not_a_500(client, invite, component_ready):
    code = component_ready.state.consent(COFFEE_APPID).auth_code
    component_ready.set_faults(reset_rate=1.0)
    page = _callback(client, invite, auth_code=code, expires_in=600)
    assert page.status_code in (502, 503)
    assert Authorizer.objects.count() == 0


def test_callback_shows_what_was_granted(
    client, invite, merchant, component_ready, celery_eager, django_capture_on_commit_callbacks
):
    code = component_ready.state.consent(COFFEE_APPID, func_info=[1, 2, 15]).auth_code
    with django_capture_on_commit_callbacks(execute=True):
        page = _callback(client, invite, auth_code=code, expires_in=600)

    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Message management", "User management", "Custom menu"):
        assert name in html
    account = Authorizer.objects.get()
    assert (account.merchant, account.permission_sets) == (merchant, [1, 2, 15])
    assert account.info_synced_at is not None


def _refresh_target(page) -> str | None:
    """Where the page's meta refresh goes (None: it does not refresh itself)."""
    found = re.search(
        r'<meta http-equiv="refresh" content="(\d+); url=([^"]+)">', page.content.decode()
    )
    return found.group(2) if found else None


def test_result_page_waits_for_the_info_sync_then_tells_the_truth(
    client, invite, merchant, component_ready
):
    code = component_ready.state.consent(COFFEE_APPID).auth_code
    page = _callback(client, invite, auth_code=code, expires_in=600)  # on_commit never runs
    assert page.status_code == 200
    html = page.content.decode()
    assert "this page updates itself" in html
    assert "checking" in html and "not available" not in html  # no verdict without the type
    # It reloads a result URL, never the callback (whose code is spent).
    result_url = f"/authorize/{invite}/result/{COFFEE_APPID}/"
    target = _refresh_target(page)
    assert target == f"{result_url}?checks=1"

    checks = 0
    while target:  # the browser follows the refreshes; the sync has still not run
        checks += 1
        page = client.get(target)
        assert page.status_code == 200 and page["Cache-Control"] == "no-store"
        target = _refresh_target(page)
    assert checks == 5  # a few seconds, then the truth: the details did not arrive
    html = page.content.decode()
    assert "WeChat has not sent your account's details yet" in html
    assert "not available" in html
    assert f'href="{result_url}?checks=0"' in html

    authorizer_sync_info(authorizer_id=Authorizer.objects.get().pk)
    page = client.get(f"{result_url}?checks=2")
    assert _refresh_target(page) is None
    html = " ".join(page.content.decode().split())
    assert "Service Account, verified by WeChat." in html
    assert "ready to use" in html


@pytest.mark.parametrize(
    "query", ["?checks=x", "?checks=99999999999", "?checks=-1", "?checks=%C2%B2", ""]
)
def test_result_page_with_a_strange_count_shows_the_state(
    client, invite, authorizer_factory, merchant, query
):
    authorizer_factory(appid=COFFEE_APPID, merchant=merchant)
    page = client.get(f"/authorize/{invite}/result/{COFFEE_APPID}/{query}")
    assert page.status_code == 200
    assert "is connected" in page.content.decode()


def test_result_page_is_only_for_the_invites_own_accounts(client, authorizer_factory, merchant):
    authorizer_factory(appid=COFFEE_APPID, merchant=merchant)
    other = invite_create(merchant=Merchant.objects.create(name="Other Merchant"))
    for appid in (COFFEE_APPID, "wx" + "0" * 200):
        page = client.get(f"/authorize/{other}/result/{appid}/")
        assert page.status_code == 400
        assert "This link is not valid" in page.content.decode()
