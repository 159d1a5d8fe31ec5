"""The token gauges' one writer: every process that updates them (the sweep, a refresh that
ended in 61023, a /metrics scrape) calls authorizer_token_gauges_update, so the gauges mean
the same thing whoever wrote them last (the selectors define what they count)."""

from __future__ import annotations

from authorizers.selectors.tokens import (
    authorizer_count_needing_reauth,
    authorizer_token_expiry_horizon,
)
from core.metrics import AUTHORIZERS_NEEDING_REAUTH, TOKEN_EXPIRY_HORIZON


def authorizer_token_gauges_update() -> None:
    """Seconds until the earliest expiry, and accounts needing re-authorization."""
    horizon = authorizer_token_expiry_horizon()
    if horizon is not None:  # no token to watch: keep the last value rather than invent one
        TOKEN_EXPIRY_HORIZON.set(horizon)
    AUTHORIZERS_NEEDING_REAUTH.set(authorizer_count_needing_reauth())
