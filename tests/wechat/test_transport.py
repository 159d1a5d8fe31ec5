"""The WeChat transport against a real local HTTP server: errors, retries, masking."""

import json
import logging
import socket

import pytest

from wechat import errors
from wechat.transport import TransportConfig, WeChatTransport, masked_url


def _transport(base_url, **overrides):
    options = {
        "connect_timeout": 1,
        "read_timeout": 0.3,
        "max_attempts": 3,
        "backoff_base": 0.2,
        "backoff_max": 2.0,
    }
    config = TransportConfig(base_url=base_url, **{**options, **overrides})
    sleeps = []
    return WeChatTransport(config, sleep=sleeps.append), sleeps


def test_success_returns_json_and_sends_json_body(fake_wechat):
    fake_wechat.answers = [("json", {"tagid_list": [134, 2]})]
    transport, _ = _transport(fake_wechat.base_url)
    result = transport.post(
        "/cgi-bin/tags/getidlist", params={"access_token": "T"}, body={"openid": "o-中文"}
    )
    assert result == {"tagid_list": [134, 2]}
    method, path, body = fake_wechat.calls[0]
    assert (method, path) == ("POST", "/cgi-bin/tags/getidlist?access_token=T")
    assert json.loads(body) == {"openid": "o-中文"}


@pytest.mark.parametrize(
    ("errcode", "error_type"),
    [
        (40001, errors.WeChatTokenInvalid),
        (40014, errors.WeChatTokenInvalid),
        (42001, errors.WeChatTokenInvalid),
        (45009, errors.WeChatQuotaExceeded),
        (40003, errors.WeChatInvalidOpenid),
        (49003, errors.WeChatOpenidMismatch),
        (48001, errors.WeChatAccountNotEligible),
        (61007, errors.WeChatPermissionSetMissing),
        (61003, errors.WeChatAuthorizationRevoked),
        (61023, errors.WeChatRefreshTokenInvalid),
        (61005, errors.WeChatTicketInvalid),
        (99999, errors.WeChatAPIError),
    ],
)
def test_errcodes_map_to_types_with_rid_and_are_not_retried(fake_wechat, errcode, error_type):
    rid = "617682e0-09059ac5-34a8e2ea"
    fake_wechat.answers = [("json", {"errcode": errcode, "errmsg": f"some text rid: {rid}"})]
    transport, sleeps = _transport(fake_wechat.base_url)
    with pytest.raises(error_type) as info:
        transport.post("/cgi-bin/x", body={})
    assert type(info.value) is error_type
    assert (info.value.errcode, info.value.rid) == (errcode, rid)
    assert len(fake_wechat.calls) == 1 and sleeps == []


def test_errcode_zero_is_success(fake_wechat):
    fake_wechat.answers = [("json", {"errcode": 0, "errmsg": "ok"})]
    transport, _ = _transport(fake_wechat.base_url)
    assert transport.post("/cgi-bin/x")["errmsg"] == "ok"


def test_busy_is_retried_with_bounded_jittered_backoff(fake_wechat):
    fake_wechat.answers = [
        ("json", {"errcode": -1, "errmsg": "system error"}),
        ("json", {"errcode": -1, "errmsg": "system error"}),
        ("json", {"tagid_list": []}),
    ]
    transport, sleeps = _transport(fake_wechat.base_url)
    assert transport.post("/cgi-bin/x") == {"tagid_list": []}
    assert len(fake_wechat.calls) == 3
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.2 and 0 <= sleeps[1] <= 0.4


def test_busy_gives_up_after_max_attempts(fake_wechat):
    fake_wechat.answers = [("json", {"errcode": -1, "errmsg": "system error rid: 1-2-3"})]
    transport, sleeps = _transport(fake_wechat.base_url)
    with pytest.raises(errors.WeChatBusy):
        transport.post("/cgi-bin/x")
    assert len(fake_wechat.calls) == 3 and len(sleeps) == 2


def test_timeout_is_retried_then_raised(fake_wechat):
    fake_wechat.answers = [("sleep", 1.0)]
    transport, _ = _transport(fake_wechat.base_url, max_attempts=2)
    with pytest.raises(errors.WeChatTimeout):
        transport.post("/cgi-bin/x")
    assert len(fake_wechat.calls) == 2


def test_connection_reset_is_retried_then_succeeds(fake_wechat):
    fake_wechat.answers = [("reset", None), ("json", {"ok": 1})]
    transport, sleeps = _transport(fake_wechat.base_url)
    assert transport.post("/cgi-bin/x") == {"ok": 1}
    assert len(sleeps) == 1


def test_connection_refused_is_a_transport_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport, sleeps = _transport(f"http://127.0.0.1:{port}")
    with pytest.raises(errors.WeChatConnectionError):
        transport.post("/cgi-bin/x")
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "answer",
    [(200, b"<html>not json</html>"), (200, b"[1, 2]"), (502, b"{}"), (500, b"oops")],
)
def test_non_json_and_5xx_are_upstream_failures_not_retried(fake_wechat, answer):
    fake_wechat.answers = [("raw", answer)]
    transport, sleeps = _transport(fake_wechat.base_url)
    with pytest.raises(errors.WeChatBadResponse):
        transport.post("/cgi-bin/x")
    assert len(fake_wechat.calls) == 1 and sleeps == []


def test_tokens_are_masked_in_log_lines(fake_wechat, caplog):
    fake_wechat.answers = [("json", {"errcode": 40001, "errmsg": "invalid credential"})]
    transport, _ = _transport(fake_wechat.base_url)
    secret = "SECRET-TOKEN-VALUE-123"
    with (
        caplog.at_level(logging.DEBUG, logger="wechat"),
        pytest.raises(errors.WeChatTokenInvalid),
    ):
        transport.post(
            "/cgi-bin/component/api_create_preauthcode",
            params={"component_access_token": secret},
        )
    assert caplog.records, "the call is logged"
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert "component_access_token=***" in caplog.text


def test_masked_url_and_log_filter_hide_secrets():
    from core.logs import MaskSecretsFilter, mask_secrets

    assert masked_url("/p", {"access_token": "abc", "x": "1"}) == "/p?access_token=***&x=1"
    text = mask_secrets('{"authorizer_refresh_token": "refreshtoken@@@xyz", "openid": "o1"}')
    assert "refreshtoken@@@xyz" not in text and '"openid": "o1"' in text
    record = logging.LogRecord("x", logging.INFO, "f", 1, "url %s", ("a?access_token=zz",), None)
    MaskSecretsFilter().filter(record)
    assert "zz" not in record.getMessage()
