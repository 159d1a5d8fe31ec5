"""An operator's day in the admin, in headless Chromium against the live server and sandbox."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from django.utils import timezone

from sandbox.demo import (
    COFFEE_APPID,
)

from .support import OPERATOR, assert_no_secrets, screenshot

AUTHORIZERS = "/admin/authorizers/authorizer/"


def test_operator_logs_in_and_reads_the_dashboard(new_page, operator, world):
    page = new_page()
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", OPERATOR[0])
    page.fill("#id_password", OPERATOR[1])
    page.click("input[type=submit]")
    page.wait_for_selector("#index-dashboard-link")
    page.click("#index-dashboard-link")
    page.wait_for_selector("#component")
    assert re.search(r"Verify ticket: received (\d+ s|1 min) ago", page.inner_text("#component"))
    assert "Access token: in 1 h" in page.inner_text("#component")
    by_status = page.inner_text("#by-status")
    assert re.search(r"5\s+Active", by_status) and re.search(
        r"1\s+Needs re-authorization", by_status
    )
    eligibility = page.inner_text("#by-eligibility")
    assert re.search(r"2\s+Can look up user tags", eligibility)
    assert re.search(r"1\s+Cannot: permission set not granted", eligibility)
    assert "Demo Lapsed" in page.inner_text("#needing-reauth")
    assert "upstream_unavailable" in page.inner_text("#recent-errors")
    assert page.locator("svg.wxt-chart rect.calls").count() == 24
    assert page.locator("script[src^='http']").count() == 0  # nothing from a CDN
    assert_no_secrets(page.content(), world["secrets"])
    screenshot(page, "dashboard.png")


def test_operator_finds_an_account_that_cannot_look_up_tags(admin_page, world):
    page = admin_page
    page.goto(AUTHORIZERS)
    page.wait_for_selector("#result_list")
    screenshot(page, "authorizer-list.png")
    assert_no_secrets(page.content(), world["secrets"])
    page.get_by_role("link", name="Cannot look up user tags: permission set not granted").click()
    page.wait_for_url(re.compile(r"eligibility=user_tags"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Demo Bakery" in rows.first.inner_text()
    reason = rows.first.locator("td.field-capability_user_tags").inner_text()
    assert reason.startswith("No:")
    assert "did not grant the 'User management' permission set (2 or 100)" in reason
    # The badges name what was granted; 2 and 100 stand out where present.
    page.goto(f"{AUTHORIZERS}?q=Demo+Books")
    assert (
        page.locator("td.field-sets .wxt-badge--key").inner_text() == "100 · User management (new)"
    )
    page.goto(f"{AUTHORIZERS}?q=Subscription")
    assert "this is a Subscription Account" in page.inner_text("#result_list")


def test_operator_refreshes_a_token_and_sees_the_new_expiry(admin_page, world):
    from authorizers.models import Authorizer

    coffee = world["accounts"][COFFEE_APPID]
    soon = timezone.now() + timedelta(minutes=3, seconds=30)
    Authorizer.objects.filter(pk=coffee.pk).update(access_token_expires_at=soon)
    page = admin_page
    page.goto(f"{AUTHORIZERS}?q={COFFEE_APPID}")
    assert re.fullmatch(r"in [23] min", page.inner_text("td.field-token_expires_in"))
    page.check(f"input[name=_selected_action][value='{coffee.pk}']")
    page.select_option("select[name=action]", "refresh_token_now")
    page.click("button[name=index]")
    message = page.locator(".messagelist li.success").inner_text()
    assert re.search(
        rf"Demo Coffee \({COFFEE_APPID}\): new access token, expires in 1 h 5\d min", message
    )
    assert re.fullmatch(r"in 1 h 5\d min", page.inner_text("td.field-token_expires_in"))
    page.get_by_role("link", name="Demo Coffee").click()
    page.wait_for_selector("#recent-calls")
    assert "upstream_unavailable" in page.inner_text("#recent-calls")
    screenshot(page, "authorizer-page.png")
    assert_no_secrets(page.content(), [Authorizer.objects.get(pk=coffee.pk).access_token])


def test_operator_creates_an_api_key_sees_it_once_and_revokes_it(admin_page, world, merchant):
    page = admin_page
    page.goto(f"/admin/authorizers/merchant/{merchant.pk}/change/")
    base = page.url.split("/admin/")[0]
    page.click("#create-api-key")
    page.fill("#id_name", "production backend")
    page.click("input[type=submit][value='Create API key']")
    key = page.inner_text("#new-api-key").strip()
    assert key.startswith("wxt_")
    # The whole key is on screen (not clipped by a field's box) and copied whole.
    box = page.locator("#new-api-key").bounding_box()
    size = page.evaluate(
        "[document.getElementById('new-api-key').scrollWidth,"
        " document.getElementById('new-api-key').clientWidth]"
    )
    assert size[0] <= size[1] and box["height"] >= 20, (size, box)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("button[data-copy-target=new-api-key]")
    page.wait_for_selector("button[data-copy-target=new-api-key]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert "It will not be shown again" in page.inner_text("#content")
    listing = requests.get(
        f"{base}/api/v1/authorizers/", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert listing.status_code == 200

    page.reload()
    page.wait_for_selector("#key-gone")
    assert key not in page.content()
    page.goto(f"/admin/authorizers/merchant/{merchant.pk}/change/")
    assert key not in page.content()
    row = page.locator("tr", has_text="production backend")
    row.get_by_role("link", name="Revoke…").click()
    page.click("input[type=submit][value='Yes, revoke this key']")
    assert "revoked: requests with it now get 401" in page.inner_text(".messagelist")
    assert "revoked" in page.locator("tr", has_text="production backend").inner_text()
    screenshot(page, "merchant.png")
    denied = requests.get(
        f"{base}/api/v1/authorizers/", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert denied.status_code == 401


def test_the_invite_link_copy_button(admin_page, world, merchant):
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/admin/authorizers/merchant/{merchant.pk}/change/")
    link = page.input_value("#invite-link")
    assert re.search(r"/authorize/[^/]+/$", link)
    page.click("button[data-copy-target=invite-link]")
    page.wait_for_selector("button[data-copy-target=invite-link]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == link
