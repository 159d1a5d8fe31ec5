"""Every error answer's rid, with the request behind it, for openapi/rid/get (protocol §1.10).

WeChat appends a rid only to errmsg on errors, so only error answers can be looked up. A rid
belongs to the account whose token made the call (or the component); nobody else can see it.
"""

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import WeChatError

RID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")
RID_IN_ERRMSG = re.compile(r" rid: ([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})$")
RETENTION_SECONDS = 7 * 86400
MAX_RECORDS = 100_000  # long benchmark runs with injected errors must not grow without bound

TOKEN_PARAMS = frozenset({"access_token", "component_access_token"})
SECRET_FIELDS = re.compile(r'("(?:component_)?(?:app)?secret"\s*:\s*")[^"]*(")')


def _mask(secret: str) -> str:
    return secret[:6] + "***" if len(secret) > 12 else "***"


def masked_url(path: str, query: dict[str, str]) -> str:
    """The path and query as called, any token cut down to a recognisable prefix."""
    pairs = [(k, _mask(v) if k in TOKEN_PARAMS else v) for k, v in query.items()]
    return f"{path}?{urlencode(pairs, safe='*/')}" if pairs else path


def masked_body(body: bytes) -> str:
    """The body as sent, secrets masked (clear_quota/v2 and api_component_token carry one)."""
    return SECRET_FIELDS.sub(r"\1***\2", body.decode("utf-8", errors="replace"))


@dataclass
class RidRecord:
    owner: str  # an authorizer appid, or the component appid
    request: dict[str, object]  # invoke_time, cost_in_ms, request_url, ...

    @property
    def invoke_time(self) -> float:
        return float(self.request["invoke_time"])  # type: ignore[arg-type]


def rid_of(errmsg: object) -> str | None:
    found = RID_IN_ERRMSG.search(errmsg) if isinstance(errmsg, str) else None
    return found.group(1) if found else None


class RidLog:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock  # the world's lock
        self._records: OrderedDict[str, RidRecord] = OrderedDict()

    def record(self, rid: str, owner: str, request: dict[str, object], now: float) -> None:
        with self._lock:
            self._records[rid] = RidRecord(owner, request)
            self._records.move_to_end(rid)
            while self._records:
                oldest = next(iter(self._records.values()))
                if len(self._records) <= MAX_RECORDS and now - oldest.invoke_time <= (
                    RETENTION_SECONDS
                ):
                    break
                self._records.popitem(last=False)

    def lookup(self, rid: str, owner: str, now: float) -> dict[str, object]:
        """76002 for a malformed rid; 76001 if unknown, over 7 days old or someone else's."""
        if not RID.match(rid):
            raise WeChatError(76002)
        with self._lock:
            found = self._records.get(rid)
            if found is None or found.owner != owner:
                raise WeChatError(76001)
            if now - found.invoke_time > RETENTION_SECONDS:
                raise WeChatError(76001)
            return dict(found.request)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
