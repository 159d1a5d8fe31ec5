"""The admin on a laptop (1280x800) and a desktop (1920x1080): what an operator decides by is on
screen without scrolling sideways, and what spends or moves something asks first.

Screenshots at 1280 px go to var/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from sandbox.demo import BAKERY_APPID, COFFEE_APPID

AUTHORIZERS = "/admin/authorizers/authorizer/"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
DESKTOP = {"width": 1920, "height": 1080}
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def _no_sideways_scroll(page) -> None:
    """Neither the page nor a list's own scroll box (Django's .results) scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"the page is {width} px wide in a {viewport} px window"
    boxes = page.evaluate(
        """() => [...document.querySelectorAll("#changelist .results")]
             .map(e => [e.scrollWidth, e.clientWidth])"""
    )
    for scroll_width, client_width in boxes:
        assert scroll_width <= client_width, f"the list scrolls: {scroll_width} > {client_width}"


def _inside_viewport(page, selector: str) -> None:
    element = page.locator(selector).first
    assert element.count(), f"{selector} is not on the page"
    box = element.bounding_box()
    viewport = page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport, (
        f"{selector} spans {box} in a {viewport} px window"
    )


def _inside_its_card(page, card: str) -> None:
    """A dashboard card's table fits its card: no column is cut off behind a scrollbar."""
    fits = page.evaluate(
        """(card) => { const c = document.querySelector(card); const t = c.querySelector("table");
           return [t.getBoundingClientRect().right, c.getBoundingClientRect().right,
                   c.scrollWidth, c.clientWidth]; }""",
        card,
    )
    table_right, card_right, scroll_width, client_width = fits
    assert table_right <= card_right + 0.5 and scroll_width <= client_width, (card, fits)


def _sized(page, viewport: dict) -> None:
    page.set_viewport_size(viewport)


@pytest.fixture
def conflict(world, merchant):
    """An open ownership claim on Demo Coffee by a second merchant."""
    from authorizers.models import Merchant, OwnershipConflict

    claimant = Merchant.objects.create(name="Claiming Bakery Ltd")
    account = world["accounts"][COFFEE_APPID]
    return OwnershipConflict.objects.create(
        authorizer=account, claimant=claimant, owner_id=account.merchant_id
    )


@pytest.mark.parametrize("viewport", [LAPTOP, DESKTOP], ids=["1280", "1920"])
def test_accounts_list_shows_what_operators_decide_by(admin_page, world, viewport):
    page = admin_page
    _sized(page, viewport)
    page.goto(AUTHORIZERS)
    page.wait_for_selector("#result_list")
    if viewport is LAPTOP:
        _shot(page, "admin-1280-accounts.png")
    for column in ("display_status", "capability_user_tags", "sets", "token_expires_in"):
        _inside_viewport(page, f"#result_list th.column-{column}")
        _inside_viewport(page, f"#result_list td.field-{column}")
    _no_sideways_scroll(page)


@pytest.mark.parametrize("viewport", [LAPTOP, DESKTOP], ids=["1280", "1920"])
def test_call_log_shows_result_errcode_and_rid_with_seconds(admin_page, world, viewport):
    page = admin_page
    _sized(page, viewport)
    page.goto("/admin/authorizers/apicall/")
    page.wait_for_selector("#result_list")
    if viewport is LAPTOP:
        _shot(page, "admin-1280-call-log.png", full_page=False)  # 100 rows a page
    for column in ("outcome", "errcode", "rid"):
        _inside_viewport(page, f"#result_list th.column-{column}")
    failed = page.locator("#result_list tr", has_text="upstream_unavailable").first
    assert failed.locator("td.field-rid").inner_text().strip() == "5f2a1b3c-0d9e8f7a-6b5c4d3e"
    _no_sideways_scroll(page)
    when = page.locator("#result_list tbody .field-created_at").first.inner_text()
    assert DATE_TIME.match(when.strip()), when


@pytest.mark.parametrize("viewport", [LAPTOP, DESKTOP], ids=["1280", "1920"])
def test_merchant_list_and_dashboard_fit(admin_page, world, conflict, viewport):
    page = admin_page
    _sized(page, viewport)
    page.goto("/admin/authorizers/merchant/")
    page.wait_for_selector("#result_list")
    for column in ("is_active", "accounts", "active_keys", "created_at"):
        _inside_viewport(page, f"#result_list th.column-{column}")
    created = page.locator("#result_list td.field-created_at").first.inner_text().strip()
    assert DATE_TIME.match(created), created
    _no_sideways_scroll(page)

    page.goto("/admin/dashboard/")
    page.wait_for_selector("#expiring")
    if viewport is LAPTOP:
        _shot(page, "admin-1280-dashboard.png")
    for card in ("#expiring", "#ownership-conflicts", "#recent-errors"):
        _inside_its_card(page, card)
    _no_sideways_scroll(page)


def test_account_page_buttons_stay_off_the_heading(admin_page, world):
    page = admin_page
    _sized(page, LAPTOP)
    coffee = world["accounts"][COFFEE_APPID]
    page.goto(f"{AUTHORIZERS}{coffee.pk}/change/")
    page.wait_for_selector("#recent-calls")
    _shot(page, "admin-1280-account.png")
    tools = page.locator(".object-tools").bounding_box()
    heading = page.locator("#content h2, #content h1").first.bounding_box()
    overlap_x = tools["x"] < heading["x"] + heading["width"] and heading["x"] < (
        tools["x"] + tools["width"]
    )
    overlap_y = tools["y"] < heading["y"] + heading["height"] and heading["y"] < (
        tools["y"] + tools["height"]
    )
    assert not (overlap_x and overlap_y), (tools, heading)
    _no_sideways_scroll(page)


def _sandbox_count(live_wechat, endpoint: str) -> int:
    state = requests.get(f"{live_wechat.base_url}/sandbox/state", timeout=5).json()
    return sum(n for path, n in state["counters"]["by_endpoint"].items() if endpoint in path)


def test_quota_reset_asks_first_with_the_month_count(admin_page, world, live_wechat):
    from authorizers.models import Authorizer

    page = admin_page
    _sized(page, LAPTOP)
    coffee = world["accounts"][COFFEE_APPID]
    page.goto(f"{AUTHORIZERS}{coffee.pk}/change/")
    page.click("button[data-action=reset_quota]")
    page.wait_for_selector("#confirm-reset-quota")
    text = page.inner_text("#content")
    assert "0 of 10 resets used this month" in text, text
    assert "Demo Coffee" in text
    assert _sandbox_count(live_wechat, "clear_quota") == 0  # nothing spent yet
    page.click("input[type=submit][value^='Yes, reset']")
    message = page.locator(".messagelist li.success").inner_text()
    assert "quota reset:" in message and "1 of 10 resets used this month" in message, message
    assert _sandbox_count(live_wechat, "clear_quota") == 1
    assert "Quota resets used this month: 1 of 10" in page.inner_text("#wechat-quota")

    # A stopped account is refused here, like every other action, without asking WeChat.
    bakery = world["accounts"][BAKERY_APPID]
    Authorizer.objects.filter(pk=bakery.pk).update(status=Authorizer.Status.REVOKED)
    page.goto(f"{AUTHORIZERS}{bakery.pk}/change/")
    page.click("button[data-action=reset_quota]")
    page.click("input[type=submit][value^='Yes, reset']")
    assert "quota reset:" in page.locator(".messagelist li.error").inner_text()
    assert _sandbox_count(live_wechat, "clear_quota") == 1


def test_transfer_asks_first_naming_both_merchants(admin_page, world, conflict):
    page = admin_page
    _sized(page, LAPTOP)
    page.goto("/admin/authorizers/ownershipconflict/")
    page.check(f"input[name=_selected_action][value='{conflict.pk}']")
    page.select_option("select[name=action]", "transfer_to_claimant")
    page.click("button[name=index]")
    page.wait_for_selector("#confirm-transfer")
    text = page.inner_text("#content")
    assert "Test Merchant" in text and "Claiming Bakery Ltd" in text, text
    conflict.refresh_from_db()
    assert conflict.resolved_at is None  # nothing moved yet
    page.click("input[type=submit][value^='Yes, transfer']")
    assert "now belongs to Claiming Bakery Ltd" in page.inner_text(".messagelist")
    conflict.refresh_from_db()
    assert conflict.resolved_at is not None
