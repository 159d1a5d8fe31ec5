"""The aggregate quota gauges (per API, never per account), written at /metrics scrape time."""

from __future__ import annotations

from django.core.cache import cache

from authorizers.capabilities import capability_apis
from authorizers.selectors.dashboard import quota_counts_by_api
from core.metrics import QUOTA_ACCOUNTS_ABOVE_80, QUOTA_STOPPED_ACCOUNTS

# The counts scan the accounts table (a JSON key per API): at most once a minute across all
# processes sharing the cache, however often /metrics is scraped.
REFRESH_SECONDS = 60


def quota_gauges_update() -> None:
    if not cache.add("metrics:quota-gauges-fresh", 1, REFRESH_SECONDS):
        return
    stopped, above = quota_counts_by_api(apis=capability_apis())
    for api in capability_apis():
        QUOTA_STOPPED_ACCOUNTS.labels(api).set(stopped.get(api, 0))
        QUOTA_ACCOUNTS_ABOVE_80.labels(api).set(above.get(api, 0))
