"""Stopping an authorizer when a WeChat call (not a push or a refresh) shows it is gone.

61003 on an ordinary API call means the merchant withdrew the authorization before its
`unauthorized` push reached us; 61023 means only a new authorization brings it back.
Either way the stored token is useless: it is dropped in the same write.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..models import Authorizer

logger = logging.getLogger(__name__)


def authorizer_mark_revoked(*, authorizer_id: int) -> bool:
    """True when this call changed the status."""
    return _stop(authorizer_id, Authorizer.Status.REVOKED)


def authorizer_mark_reauth_required(*, authorizer_id: int) -> bool:
    return _stop(authorizer_id, Authorizer.Status.REAUTH_REQUIRED)


def authorizer_stop_fields(
    authorizer: Authorizer, status: str, *, at: datetime | None = None
) -> list[str]:
    """Set a stopped status on the instance and drop its useless token; the fields to save.

    Shared by every path that stops an account (this module, a refused refresh, the
    `unauthorized` push), so a stopped row never keeps a token.
    """
    authorizer.status = status
    authorizer.access_token = ""
    authorizer.access_token_expires_at = None
    fields = ["status", "access_token", "access_token_expires_at", "updated_at"]
    if status == Authorizer.Status.REVOKED:
        authorizer.revoked_at = at or timezone.now()
        fields.append("revoked_at")
    return fields


def _stop(authorizer_id: int, status: str) -> bool:
    with transaction.atomic():
        row = Authorizer.objects.select_for_update().filter(pk=authorizer_id).first()
        if row is None or row.status == status:
            return False
        # save(), not update(): post_save drops the merchant API's cached copy of the row.
        row.save(update_fields=authorizer_stop_fields(row, status))
    logger.warning("authorizer %s marked %s after a WeChat answer", row.appid, status)
    return True
