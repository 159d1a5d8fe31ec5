"""Per-account daily API quotas (protocol §1.10, §4): spent per cgi path, cleared 10 times a month.

Days and months are China time (UTC+8) on the sandbox clock, so tests cross midnight by moving
the clock. Only paths in settings.daily_quota are metered.
"""

import threading
from datetime import UTC, datetime, timedelta, timezone

from .errors import WeChatError
from .settings import Settings

CHINA = timezone(timedelta(hours=8))
CLEARS_PER_MONTH = 10


def china_day(now: float) -> int:
    return int((now + 8 * 3600) // 86400)


def china_month(now: float) -> tuple[int, int]:
    moment = datetime.fromtimestamp(now, UTC).astimezone(CHINA)
    return moment.year, moment.month


class QuotaBook:
    def __init__(self, lock: threading.RLock, settings: Settings) -> None:
        self._lock = lock  # the world's lock
        self._settings = settings
        self._used: dict[str, tuple[int, dict[str, int]]] = {}  # appid -> (day, path -> calls)
        self._clears: dict[str, tuple[tuple[int, int], int]] = {}  # appid -> (month, clears)

    def _today(self, appid: str, now: float) -> dict[str, int]:
        day = china_day(now)
        found = self._used.get(appid)
        if found is None or found[0] != day:
            found = self._used[appid] = (day, {})
        return found[1]

    def spend(self, appid: str, path: str, now: float) -> None:
        """Count one call; 45009 (and nothing counted) once the day's limit is reached."""
        with self._lock:
            limit = self._settings.daily_quota.get(path)
            if limit is None:
                return
            used = self._today(appid, now)
            if used.get(path, 0) >= limit:
                raise WeChatError(45009)
            used[path] = used.get(path, 0) + 1

    def usage(self, appid: str, path: str, now: float) -> dict[str, int]:
        """What quota/get shows; 76021 for a path that has no quota."""
        with self._lock:
            limit = self._settings.daily_quota.get(path)
            if limit is None:
                raise WeChatError(76021)
            used = min(self._today(appid, now).get(path, 0), limit)
            return {"daily_limit": limit, "used": used, "remain": limit - used}

    def clear(self, appid: str, now: float) -> None:
        """Zero the account's counters for every path; 48006 past 10 clears this month."""
        with self._lock:
            month = china_month(now)
            seen, clears = self._clears.get(appid, (month, 0))
            if seen != month:
                clears = 0
            if clears >= CLEARS_PER_MONTH:
                raise WeChatError(48006)
            self._clears[appid] = (month, clears + 1)
            self._used.pop(appid, None)

    def snapshot(self, now: float) -> dict[str, object]:
        with self._lock:
            day, month = china_day(now), china_month(now)
            return {
                "used_today": {a: dict(u) for a, (d, u) in self._used.items() if d == day and u},
                "clears_this_month": {a: n for a, (m, n) in self._clears.items() if m == month},
            }

    def reset(self) -> None:
        with self._lock:
            self._used.clear()
            self._clears.clear()
