import shutil
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.plugins.sandbox",
    "tests.plugins.celery_worker",
    "tests.plugins.accounts",
    "tests.plugins.resilience",
]


@pytest.fixture(autouse=True)
def _call_log_in_request(settings):
    """The call log's background writer batches rows; tests read them right after a request."""
    settings.API_CALL_LOG_FLUSH_SECONDS = 0


@pytest.fixture(autouse=True)
def _clear_cache(settings):
    from django.core.cache import cache

    from merchant_api import ratelimit

    cache.clear()
    # Without Redis the buckets live in this process or in files: a new test's key (SQLite
    # reuses ids) must not start on an earlier test's empty bucket.
    ratelimit._backends.clear()
    ratelimit._seen.clear()
    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        shutil.rmtree(Path(settings.CACHES["default"]["LOCATION"]) / "ratelimit", True)
    yield


@pytest.fixture
def wechat_api(wechat_sandbox, settings):
    """Points the product's WeChat origins at a fresh sandbox (no real WeChat here)."""
    settings.WECHAT_API_BASE = wechat_sandbox.base_url
    settings.WECHAT_MP_BASE = wechat_sandbox.base_url
    settings.WECHAT_BACKOFF_BASE = 0.01
    settings.WECHAT_BACKOFF_MAX = 0.05
    return wechat_sandbox
