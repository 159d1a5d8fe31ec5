"""Call counters per endpoint path and per (path, authorizer appid), for tests and benchmarks."""

import threading
from collections import Counter


class CallCounters:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock  # the world's lock: one lock for the whole world
        self._calls: Counter[str] = Counter()
        self._by_appid: Counter[tuple[str, str]] = Counter()

    def count(self, path: str, appid: str | None) -> None:
        with self._lock:
            self._calls[path] += 1
            if appid:
                self._by_appid[(path, appid)] += 1

    def calls(self, endpoint: str, appid: str | None = None) -> int:
        """Calls to a path ("/cgi-bin/tags/getidlist") or to its last part ("getidlist")."""
        suffix = "/" + endpoint.lstrip("/")

        def matches(path: str) -> bool:
            return path == endpoint or path.endswith(suffix)

        with self._lock:
            if appid is None:
                return sum(n for p, n in self._calls.items() if matches(p))
            return sum(n for (p, a), n in self._by_appid.items() if a == appid and matches(p))

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            by_authorizer: dict[str, dict[str, int]] = {}
            for (path, appid), n in self._by_appid.items():
                by_authorizer.setdefault(appid, {})[path] = n
            return {"by_endpoint": dict(self._calls), "by_authorizer": by_authorizer}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._by_appid.clear()
