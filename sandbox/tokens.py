"""Credentials as WeChat hands them out: random strings with a lifetime and a replacement rule."""

import secrets
from dataclasses import dataclass


def new_access_token(nbytes: int = 80) -> str:
    # Real authorizer tokens are ~107 URL-safe characters, component tokens ~86.
    return secrets.token_urlsafe(nbytes)


def new_marked(prefix: str, nbytes: int = 32) -> str:
    """Codes, tickets and refresh tokens carry a `kind@@@` prefix in real traffic."""
    return f"{prefix}@@@{secrets.token_urlsafe(nbytes)}"


@dataclass
class TokenSlot:
    """The live access token and the one it replaced, which lives on only for the grace period.

    With grace 0 (the default) the old token dies the moment a new one is issued: the harsher
    reading of WeChat's undocumented behaviour, so clients that race their own refreshes fail
    in tests rather than in production.
    """

    current: str | None = None
    expires_at: float = 0.0
    previous: str | None = None
    previous_expires_at: float = 0.0
    previous_until: float = 0.0

    def issue(self, token: str, *, now: float, ttl: float, grace: float) -> list[str]:
        """Install `token`; return the tokens that are now dead for good (to unindex them)."""
        dropped = [self.previous] if self.previous else []
        self.previous = None
        if self.current is not None:
            if grace > 0:
                self.previous = self.current
                self.previous_expires_at = self.expires_at
                self.previous_until = now + grace
            else:
                dropped.append(self.current)
        self.current = token
        self.expires_at = now + ttl
        return dropped

    def check(self, token: str, now: float) -> int | None:
        """None when usable, else the errcode WeChat would answer."""
        if token == self.current:
            return None if now < self.expires_at else 42001
        if token == self.previous and now < self.previous_until:
            return None if now < self.previous_expires_at else 42001
        return 40001

    def expire(self, now: float) -> None:
        self.expires_at = min(self.expires_at, now)
        self.previous_until = min(self.previous_until, now)

    def clear(self) -> list[str]:
        dropped = [t for t in (self.current, self.previous) if t]
        self.current = self.previous = None
        self.expires_at = self.previous_expires_at = self.previous_until = 0.0
        return dropped


@dataclass
class RefreshSlot:
    """authorizer_refresh_token: no expiry; an old one may live on for a grace period."""

    current: str = ""
    previous: str = ""
    previous_until: float = 0.0

    def replace(self, token: str, *, now: float, grace: float) -> None:
        if self.current and grace > 0:
            self.previous, self.previous_until = self.current, now + grace
        else:
            self.previous, self.previous_until = "", 0.0
        self.current = token

    def accepts(self, token: str, now: float) -> bool:
        if not token:
            return False
        if token == self.current:
            return True
        return token == self.previous and now < self.previous_until
