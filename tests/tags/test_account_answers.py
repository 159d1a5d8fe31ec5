"""WeChat answers about the account on getidlist itself (the sandbox only gives 61003/61023
on a refresh, so a fake WeChat on a local socket answers these exactly)."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from authorizers.capabilities import AuthorizerInactive
from authorizers.models import Authorizer, Merchant
from tags.services import user_tagids_get
from tests.fake_wechat import start_fake_wechat, stop

OPENID = "oAbcdefghijklmnopqrstuvwxyz9"


@pytest.fixture
def wechat(settings):
    script, server = start_fake_wechat()
    settings.WECHAT_API_BASE = script.base_url
    yield script
    stop(server)


def _getidlist_calls(wechat) -> list[tuple[dict, dict]]:
    """(query, JSON body) of each getidlist call the fake WeChat received."""
    calls = []
    for method, path, body in wechat.calls:
        url = urlsplit(path)
        assert (method, url.path) == ("POST", "/cgi-bin/tags/getidlist")
        calls.append((parse_qs(url.query), json.loads(body)))
    return calls


@pytest.fixture
def account(db, wechat):
    merchant = Merchant.objects.create(name="M")
    return Authorizer.objects.create(
        merchant=merchant,
        appid="wx1234567890abcdef",
        service_type=2,
        verify_type=0,
        permission_sets=[2],
        access_token="valid-token",
        access_token_expires_at=timezone.now() + timedelta(hours=1),
        refresh_token="refreshtoken@@@x",
    )


@pytest.mark.parametrize(
    ("errcode", "status", "message"),
    [
        (61003, "revoked", "component is not authorized by this account"),
        (61023, "reauth_required", "refresh_token is invalid"),
    ],
)
def test_account_gone_stops_the_authorizer(account, wechat, errcode, status, message):
    wechat.answers = [
        ("json", {"errcode": errcode, "errmsg": f"{message} rid: 6142cae2-160a288b-589e1ad2"})
    ]
    with pytest.raises(AuthorizerInactive) as raised:
        user_tagids_get(authorizer=account, openid=OPENID)
    assert raised.value.wechat_error.errcode == errcode
    account.refresh_from_db()
    assert account.status == status and account.access_token == ""
    assert _getidlist_calls(wechat) == [({"access_token": ["valid-token"]}, {"openid": OPENID})]

    from merchant_api.exceptions import api_error_from

    error = api_error_from(raised.value)
    assert (error.code, error.status, error.wechat_errcode) == ("authorizer_revoked", 410, errcode)
    assert error.rid == "6142cae2-160a288b-589e1ad2"


def test_malformed_answer_is_upstream_unavailable(account, wechat):
    from merchant_api.exceptions import api_error_from
    from wechat.errors import WeChatBadResponse

    wechat.answers = [("json", {"tagid_list": "2,100"})]
    with pytest.raises(WeChatBadResponse) as raised:
        user_tagids_get(authorizer=account, openid=OPENID)
    assert api_error_from(raised.value).code == "upstream_unavailable"
