"""Stopping an authorizer: the `unauthorized` push, an operator, or a WeChat answer saying so.

61003 on an ordinary API call means the merchant withdrew the authorization before its
`unauthorized` push reached us; 61023 means only a new authorization brings it back.
Either way the stored token is useless: token_state drops it in the same write.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from authorizers.services.tokens.state import token_state_lock, token_state_stop

from ..models import Authorizer

logger = logging.getLogger(__name__)


def authorizer_mark_revoked(*, authorizer_id: int) -> bool:
    """True when this call changed the status."""
    return _stop(authorizer_id, Authorizer.Status.REVOKED)


def authorizer_mark_reauth_required(*, authorizer_id: int) -> bool:
    return _stop(authorizer_id, Authorizer.Status.REAUTH_REQUIRED)


def _stop(authorizer_id: int, status: str) -> bool:
    with transaction.atomic():
        row = token_state_lock(authorizer_id=authorizer_id)
        if row is None or row.status == status:
            return False
        token_state_stop(row, status=status)
    logger.warning("authorizer %s marked %s after a WeChat answer", row.appid, status)
    return True


def authorizer_apply_unauthorized(
    *, appid: str, revoked_at: datetime | None = None
) -> Authorizer | None:
    """The merchant withdrew the authorization (at `revoked_at`, WeChat's time): stop now.

    Returns the row, or None for an unknown appid. A revocation older than the stored
    authorization is not applied: the row comes back unchanged (still active).
    """
    with transaction.atomic():
        authorizer = token_state_lock(appid=appid)
        if authorizer is None:
            logger.info("unauthorized for an unknown appid: nothing to revoke")
            return None
        applied = token_state_stop(authorizer, status=Authorizer.Status.REVOKED, at=revoked_at)
    if applied:
        logger.info("authorizer %s revoked", appid)
    return authorizer
