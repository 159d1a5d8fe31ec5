"""Gauges computed from the database when /metrics is scraped, so any web process is right.

What they count and how they are written is the authorizers' one writer; this only makes
sure a failing query cannot fail the scrape.
"""

from __future__ import annotations

import logging

from authorizers.services.quota.gauges import quota_gauges_update
from authorizers.services.tokens.gauges import authorizer_token_gauges_update

logger = logging.getLogger(__name__)


def refresh_gauges() -> None:
    try:
        authorizer_token_gauges_update()
    except Exception:  # a scrape must not fail because a gauge query did
        logger.exception("could not compute token gauges")
    try:
        quota_gauges_update()
    except Exception:
        logger.exception("could not compute quota gauges")
