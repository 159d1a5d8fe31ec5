"""The local stop after a 45009 (SPEC section 10): checked before, recorded after, every call
made with an account's token (request_token.authorizer_call)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from authorizers.models import AccountEvent, Authorizer
from authorizers.services.events import account_event_record
from wechat.errors import WeChatQuotaExceeded
from wechat.quota import quota_resets_at

logger = logging.getLogger(__name__)


class QuotaStopped(WeChatQuotaExceeded):
    """45009, answered by us: WeChat said so earlier today and nothing was reset since."""

    def __init__(self, *, api: str, until: datetime, rid: str | None) -> None:
        local = until.astimezone(quota_resets_at().tzinfo)
        note = f" rid: {rid}" if rid else ""
        super().__init__(
            f"reach max api daily quota limit (refused locally until {local:%Y-%m-%d %H:%M} "
            f"China time){note}",
            errcode=45009,
            api=api,
        )
        self.until = until


def authorizer_quota_check(*, authorizer: Authorizer, api: str) -> None:
    """Raises QuotaStopped while a 45009 for this API of this account still holds."""
    stop = (authorizer.quota_stops or {}).get(api)
    if not stop:
        return
    until = datetime.fromisoformat(stop["until"])
    if until > timezone.now():
        raise QuotaStopped(api=api, until=until, rid=stop.get("rid"))


def authorizer_quota_stop(*, authorizer: Authorizer, api: str, error: WeChatQuotaExceeded) -> None:
    """WeChat answered 45009: refuse this API of this account locally until its midnight."""
    if error.errcode != 45009 or isinstance(error, QuotaStopped):
        return  # 45011 is a per-minute limit: WeChat itself lifts it within the minute
    # Stored in UTC: the dashboard's counts compare these strings in SQL.
    until = quota_resets_at().astimezone(UTC)
    stop = {"until": until.isoformat(), "rid": error.rid}
    with transaction.atomic():
        row = Authorizer.objects.select_for_update().get(pk=authorizer.pk)
        already = api in (row.quota_stops or {})
        row.quota_stops = {**(row.quota_stops or {}), api: stop}
        # save(): post_save drops the merchant API's cached copy of the row.
        row.save(update_fields=["quota_stops", "updated_at"])
        if not already:
            account_event_record(
                row,
                type=AccountEvent.Type.QUOTA_EXHAUSTED,
                extra={"api": api, "until": until.isoformat()},
            )
    authorizer.quota_stops = row.quota_stops
    cache.delete(quota_key(authorizer.appid, api))  # the next quota read asks WeChat again
    logger.warning(
        "authorizer %s: %s quota used up, refused locally until %s", row.appid, api, until
    )


def quota_key(appid: str, api: str) -> str:
    """Where an API's quota reading is cached; dropped when a 45009 or a reset changes it."""
    return f"wechat-quota:{appid}:{api}"
