"""WeChat's daily API quotas (protocol 1.10): they reset at midnight, China time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

WECHAT_DAY = ZoneInfo("Asia/Shanghai")


def quota_resets_at(now: dt.datetime | None = None) -> dt.datetime:
    """The next midnight in China (UTC+8), as an aware datetime."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(WECHAT_DAY)
    return (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def quota_month(now: dt.datetime | None = None) -> str:
    """The calendar month (China time) WeChat counts quota resets in, as "YYYY-MM"."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(WECHAT_DAY).strftime("%Y-%m")
