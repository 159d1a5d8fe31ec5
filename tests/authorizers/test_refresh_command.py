"""manage.py refresh_authorizer_tokens [--appid X] [--all]."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authorizers.models import Authorizer
from sandbox.demo import BAKERY_APPID, BOOKS_APPID, COFFEE_APPID

from .refresh_support import AUTHORIZER_TOKEN_PATH, give_ticket, onboard, refresh_calls

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(wechat_api):
    give_ticket(wechat_api)
    return {
        "expiring": onboard(wechat_api, COFFEE_APPID, expires_in=300),
        "fresh": onboard(wechat_api, BOOKS_APPID, expires_in=7000),
        "revoked": onboard(wechat_api, BAKERY_APPID, expires_in=-5),
    }


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("refresh_authorizer_tokens", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _version(account) -> int:
    return Authorizer.objects.get(pk=account.pk).token_version


def test_refreshes_only_expiring_tokens_and_summarizes(wechat_api, accounts):
    wechat_api.state.revoke(BAKERY_APPID)
    out, err = _run()
    assert refresh_calls(wechat_api, COFFEE_APPID) == 1
    assert refresh_calls(wechat_api, BOOKS_APPID) == 0
    assert _version(accounts["expiring"]) == 2 and _version(accounts["fresh"]) == 1
    assert "2 authorizer(s):" in out
    assert "refreshed" in out and "revoked" in out
    assert f"{BAKERY_APPID}: revoked: the merchant must authorize again" in err
    assert "\r" not in err  # no progress bar off a terminal


def test_all_refreshes_every_active_token(wechat_api, accounts):
    out, _ = _run("--all")
    assert refresh_calls(wechat_api) == 3
    assert _version(accounts["fresh"]) == 2
    assert "refreshed              3" in out


def test_appid_alone_refreshes_it_only_if_expiring(wechat_api, accounts):
    out, _ = _run("--appid", BOOKS_APPID)
    assert refresh_calls(wechat_api) == 0
    assert "fresh" in out
    _run("--appid", BOOKS_APPID, "--all")
    assert refresh_calls(wechat_api, BOOKS_APPID) == 1
    assert refresh_calls(wechat_api) == 1


def test_failures_are_listed_and_set_the_exit_status(wechat_api, accounts):
    wechat_api.set_faults(quota_rate=1.0, path_prefix=AUTHORIZER_TOKEN_PATH)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 refresh"):
        call_command("refresh_authorizer_tokens", stdout=out, stderr=err)
    assert "quota" in out.getvalue()
    assert f"{COFFEE_APPID}: quota (try again later)" in err.getvalue()


def test_unknown_appid_is_an_error(accounts):
    with pytest.raises(CommandError, match="no authorizer with appid wx_nope"):
        _run("--appid", "wx_nope")


def test_nothing_due(wechat_api):
    give_ticket(wechat_api)
    onboard(wechat_api, BOOKS_APPID, expires_in=7000)
    out, _ = _run()
    assert "Nothing to refresh" in out
