"""The merchant's side of onboarding in a browser: the invite from the admin, WeChat's page
(the sandbox, which consents at once), and the result page with its refusal explanations."""

from __future__ import annotations

import pytest
import requests

from sandbox.demo import (
    BAKERY_APPID,
    COFFEE_APPID,
    SUBSCRIPTION_APPID,
    UNVERIFIED_APPID,
)


@pytest.fixture
def invite_link(admin_page, live_wechat, merchant):
    """What the operator copies from the merchant's admin page."""
    admin_page.goto(f"/admin/authorizers/merchant/{merchant.pk}/change/")
    return admin_page.input_value("#invite-link")


def _consent_as(sandbox, appid: str) -> None:
    """The sandbox's authorization page picks the account the merchant's admin would choose."""
    response = requests.post(
        f"{sandbox.base_url}/sandbox/consent", json={"authorizer_appid": appid}, timeout=10
    )
    response.raise_for_status()


def _onboard(new_page, invite_link: str):
    page = new_page()  # the merchant's own browser: no admin session
    page.goto(invite_link)
    assert page.inner_text("h1") == "Connect your WeChat Official Account"
    assert "Keep User management ticked" in page.inner_text("body")
    page.get_by_role("link", name="Continue to WeChat").click()
    page.wait_for_url("**/callback/**")
    return page


def test_merchant_connects_an_account_that_can_look_up_tags(
    new_page, invite_link, live_wechat, merchant
):
    from authorizers.models import Authorizer

    _consent_as(live_wechat, COFFEE_APPID)
    page = _onboard(new_page, invite_link)
    assert page.inner_text("h1") == "Demo Coffee is connected"
    body = page.inner_text("body")
    assert "User management" in page.locator("ul.plain").first.inner_text()
    assert "Service Account, verified by WeChat." in body
    assert "User tags: ready to use" in body
    assert "auth_code" not in page.content()  # the code stays in the URL, not on the page
    assert Authorizer.objects.get(appid=COFFEE_APPID).merchant_id == merchant.pk


@pytest.mark.parametrize(
    ("appid", "nickname", "reason"),
    [
        (
            BAKERY_APPID,
            "Demo Bakery",
            "The account did not grant the 'User management' permission set (2 or 100) to our "
            "platform. Re-authorize and tick User management.",
        ),
        (
            SUBSCRIPTION_APPID,
            "Demo Subscription",
            "Only Service Accounts can look up user tags; this is a Subscription Account.",
        ),
        (UNVERIFIED_APPID, "Demo Unverified", "The account has not completed WeChat verification."),
    ],
)
def test_merchant_reads_why_tag_lookup_is_not_available(
    new_page, invite_link, live_wechat, appid, nickname, reason
):
    _consent_as(live_wechat, appid)
    page = _onboard(new_page, invite_link)
    assert page.inner_text("h1") == f"{nickname} is connected"
    body = page.inner_text("body")
    assert "User tags: not available" in body
    assert reason in body


def test_an_account_of_another_merchant_is_refused(
    new_page, invite_link, live_wechat, authorizer_factory
):
    from authorizers.models import Merchant

    other = Merchant.objects.create(name="Someone Else")
    authorizer_factory(appid=COFFEE_APPID, merchant=other)
    _consent_as(live_wechat, COFFEE_APPID)
    page = _onboard(new_page, invite_link)
    assert page.inner_text("h1") == "This Official Account is already connected to another merchant"
    assert "Demo Coffee" in page.inner_text("body")


def test_a_forged_invite_is_explained(new_page, live_server, live_wechat):
    page = new_page()
    page.goto(f"{live_server.url}/authorize/not-a-real-invite/")
    assert page.inner_text("h1") == "This link is not valid"
    assert "ask your contact for a new authorization link" in page.inner_text("body")
