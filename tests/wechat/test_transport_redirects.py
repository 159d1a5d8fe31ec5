"""The transport never follows a redirect: a 307/308 would resend the body (component
secret, codes) to wherever the Location points. Real local HTTP servers on both ends."""

import pytest

from wechat import errors
from wechat.transport import TransportConfig, WeChatTransport

from .conftest import start_fake_wechat, stop


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_bad_response_and_its_target_is_never_hit(fake_wechat, status):
    # Where the redirect points: it would hand out a token for the resent secret.
    fake_wechat.answers = [("json", {"component_access_token": "stolen", "expires_in": 7200})]
    redirector, server = start_fake_wechat()
    redirector.answers = [("redirect", (status, f"{fake_wechat.base_url}/steal"))]
    try:
        config = TransportConfig(base_url=redirector.base_url, max_attempts=3)
        transport = WeChatTransport(config, sleep=lambda _: None)
        with pytest.raises(errors.WeChatBadResponse) as info:
            transport.post(
                "/cgi-bin/component/api_component_token",
                body={"component_appid": "wx1", "component_appsecret": "the-secret"},
            )
    finally:
        stop(server)
    assert f"HTTP {status}" in str(info.value)
    assert fake_wechat.calls == []
