"""The authorizers in the world and what the control API and tests do to them directly."""

import threading

from . import demo
from .accounts import Authorizer
from .settings import Settings
from .tokens import new_marked

FIELD_TYPES: dict[str, type] = {
    "nick_name": str,
    "principal_name": str,
    "service_type": int,
    "verify_type": int,
    "account_status": int,
    "func_info": list,
    # The openids (of this account's users) who unfollowed; replaces the set.
    "unsubscribed": list,
    # That many more followers (benchmarks), openids as demo.demo_openid numbers them.
    "add_followers": int,
}


def check_changes(changes: dict[str, object]) -> None:
    """ValueError unless every change names an updatable field with a value of its type."""
    for name, value in changes.items():
        kind = FIELD_TYPES.get(name)
        if kind is None:
            raise ValueError(f"cannot update {name!r}; updatable: {sorted(FIELD_TYPES)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name} must be a {kind.__name__}")
        if name == "func_info" and not all(
            isinstance(i, int) and not isinstance(i, bool)
            for i in value  # type: ignore[attr-defined]
        ):
            raise ValueError("func_info must be a list of permission-set ids")
        if name == "add_followers" and not 0 < value <= 100_000:  # type: ignore[operator]
            raise ValueError("add_followers must be between 1 and 100000")
        if name == "unsubscribed" and not all(
            isinstance(o, str)
            for o in value  # type: ignore[attr-defined]
        ):
            raise ValueError("unsubscribed must be a list of openids")


class AuthorizerRegistry:
    """Mixed into World, which owns these attributes; kept apart to keep each file small."""

    lock: threading.RLock
    settings: Settings
    authorizers: dict[str, Authorizer]
    token_index: dict[str, str]
    openid_index: dict[str, str]

    def now(self) -> float:
        raise NotImplementedError

    def issue_authorizer_token(self, account: Authorizer) -> str:
        raise NotImplementedError

    def add_authorizer(self, account: Authorizer) -> None:
        with self.lock:
            old = self.authorizers.get(account.appid)
            if old is not None:
                self._unindex(old)
            self.authorizers[account.appid] = account
            for openid in account.users:
                self.openid_index[openid] = account.appid

    def _unindex(self, account: Authorizer) -> None:
        for openid in account.users:
            self.openid_index.pop(openid, None)
        for token in account.access.clear():
            self.token_index.pop(token, None)

    def add_synthetic(self, count: int, *, authorized: bool = True) -> list[str]:
        """Append `count` synthetic authorizers (benchmarks); return their appids."""
        with self.lock:
            start = sum(1 for appid in self.authorizers if appid.startswith("wx9"))
        built = [demo.build_synthetic_authorizer(start + i) for i in range(count)]
        for account in built:
            if authorized:
                account.authorized = account.exchanged = True
                account.refresh.current = new_marked("refreshtoken")
        with self.lock:
            now = int(self.now())
            for account in built:
                account.auth_time = now
                self.add_authorizer(account)
        return [a.appid for a in built]

    def update_authorizer(self, appid: str, changes: dict[str, object]) -> Authorizer:
        """Change the account itself (type, verification, grant); KeyError if unknown."""
        check_changes(changes)
        with self.lock:
            account = self.authorizers[appid]
            gone: list[str] = changes.get("unsubscribed", [])  # type: ignore[assignment]
            strangers = set(gone) - set(account.users)
            if strangers:
                raise ValueError(f"not users of {appid}: {sorted(strangers)}")
            for name, value in changes.items():
                if name == "add_followers":
                    self._add_followers(account, int(value))  # type: ignore[arg-type]
                    continue
                if name == "unsubscribed":
                    value = set(value)  # type: ignore[arg-type]
                setattr(account, name, list(value) if name == "func_info" else value)
            return account

    def _add_followers(self, account: Authorizer, count: int) -> None:
        patterns = [[2, 100], [100], [], [101, 2]]
        start = len(account.users)
        for i in range(start, start + count):
            openid = demo.demo_openid(account.appid, i)
            account.users[openid] = list(patterns[i % len(patterns)])
            self.openid_index[openid] = account.appid

    def authorize(self, appid: str, *, func_info: list[int] | None = None) -> dict[str, object]:
        """Authorize and exchange in one step, as if the flow had run; returns the grant."""
        with self.lock:
            account = self.authorizers[appid]
            if func_info is not None:
                account.func_info = list(func_info)
            account.refresh.replace(new_marked("refreshtoken"), now=self.now(), grace=0)
            account.authorized = account.exchanged = True
            account.auth_time = int(self.now())
            return {
                "authorizer_appid": appid,
                "authorizer_access_token": self.issue_authorizer_token(account),
                "authorizer_refresh_token": account.refresh.current,
                "expires_in": int(self.settings.token_ttl),
            }

    def revoke(self, appid: str) -> None:
        """The merchant cancels: its tokens die and its refresh token is refused with 61003."""
        with self.lock:
            account = self.authorizers[appid]
            account.authorized = account.exchanged = False
            for token in account.access.clear():
                self.token_index.pop(token, None)
            account.refresh.replace("", now=self.now(), grace=0)

    def expire_authorizer_token(self, appid: str) -> None:
        with self.lock:
            self.authorizers[appid].access.expire(self.now())

    def openid_owner(self, openid: str) -> str | None:
        with self.lock:
            return self.openid_index.get(openid)

    def authorized_appids(self) -> list[str]:
        with self.lock:
            return [appid for appid, a in self.authorizers.items() if a.authorized]
