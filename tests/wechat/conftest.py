"""The fake WeChat as a fixture for the transport tests."""

import pytest

from tests.fake_wechat import start_fake_wechat, stop


@pytest.fixture
def fake_wechat():
    script, server = start_fake_wechat()
    yield script
    stop(server)
