"""WeChat answers about the account on getidlist itself (the sandbox only gives 61003/61023
on a refresh, so these register the exact URL with `responses`)."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from authorizers.capabilities import AuthorizerInactive
from authorizers.models import Authorizer, Merchant
from tags.services import user_tagids_get

OPENID = "oAbcdefghijklmnopqrstuvwxyz9"
BASE = "https://wechat.test"


@pytest.fixture
def account(db, settings):
    settings.WECHAT_API_BASE = BASE
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
@responses.activate
def test_account_gone_stops_the_authorizer(account, errcode, status, message):
    responses.post(
        f"{BASE}/cgi-bin/tags/getidlist",
        json={"errcode": errcode, "errmsg": f"{message} rid: 6142cae2-160a288b-589e1ad2"},
        match=[
            responses.matchers.query_param_matcher({"access_token": "valid-token"}),
            responses.matchers.json_params_matcher({"openid": OPENID}),
        ],
    )
    with pytest.raises(AuthorizerInactive) as raised:
        user_tagids_get(authorizer=account, openid=OPENID)
    assert raised.value.wechat_error.errcode == errcode
    account.refresh_from_db()
    assert account.status == status and account.access_token == ""
    assert len(responses.calls) == 1

    from platform_app.api.exceptions import api_error_from

    error = api_error_from(raised.value)
    assert (error.code, error.status, error.wechat_errcode) == ("authorizer_revoked", 410, errcode)
    assert error.rid == "6142cae2-160a288b-589e1ad2"


@responses.activate
def test_malformed_answer_is_upstream_unavailable(account):
    from platform_app.api.exceptions import api_error_from
    from platform_app.wechat.errors import WeChatBadResponse

    responses.post(f"{BASE}/cgi-bin/tags/getidlist", json={"tagid_list": "2,100"})
    with pytest.raises(WeChatBadResponse) as raised:
        user_tagids_get(authorizer=account, openid=OPENID)
    assert api_error_from(raised.value).code == "upstream_unavailable"
