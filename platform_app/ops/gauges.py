"""Gauges computed from the database when /metrics is scraped, so any web process is right."""

from __future__ import annotations

import logging

from django.apps import apps
from django.db.models import Min
from django.utils import timezone

from platform_app.metrics import AUTHORIZERS_NEEDING_REAUTH, TOKEN_EXPIRY_HORIZON

logger = logging.getLogger(__name__)


def refresh_gauges() -> None:
    try:
        authorizer = apps.get_model("authorizers", "Authorizer")
        active = authorizer.objects.filter(status="active", access_token_expires_at__isnull=False)
        earliest = active.aggregate(earliest=Min("access_token_expires_at"))["earliest"]
        if earliest is not None:
            TOKEN_EXPIRY_HORIZON.set((earliest - timezone.now()).total_seconds())
        AUTHORIZERS_NEEDING_REAUTH.set(authorizer.objects.filter(status="reauth_required").count())
    except Exception:  # a scrape must not fail because a gauge query did
        logger.exception("could not compute token gauges")
