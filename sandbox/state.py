"""The sandbox's world: the component, its credentials and codes, the authorizers, the counters.

One re-entrant lock guards all of it. It is held only for dictionary work, never while sleeping
or doing I/O, so injected latency does not serialise concurrent callers.
"""

import threading
import time
from dataclasses import dataclass

from . import demo
from .accounts import Authorizer
from .counters import CallCounters
from .errors import WeChatError
from .quotas import QuotaBook
from .registry import AuthorizerRegistry
from .rids import RidLog
from .settings import Settings
from .tokens import TokenSlot, new_access_token, new_marked

PRUNE_AT = 10_000


@dataclass
class Ticket:
    value: str
    issued_at: float


@dataclass
class AuthCode:
    appid: str
    expires_at: float


@dataclass
class Consent:
    info_type: str  # "authorized" the first time, "updateauthorized" for an authorized account
    authorizer_appid: str
    auth_code: str
    pre_auth_code: str
    expires_in: int


@dataclass(frozen=True)
class ComponentIdentity:
    """Who the sandbox's component is: what it checks calls against and signs pushes with."""

    appid: str = demo.COMPONENT_APPID
    appsecret: str = demo.COMPONENT_APPSECRET
    token: str = demo.COMPONENT_TOKEN
    encoding_aes_key: str = demo.ENCODING_AES_KEY

    def __post_init__(self) -> None:
        for name in ("appid", "appsecret", "token"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"component {name} must be a non-empty string")
        key = self.encoding_aes_key
        if not isinstance(key, str) or len(key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")


class World(AuthorizerRegistry):
    def __init__(
        self, settings: Settings | None = None, component: ComponentIdentity | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.settings = settings or Settings()
        self.component = component or ComponentIdentity()
        self.component_appid = self.component.appid
        self.component_appsecret = self.component.appsecret
        self.component_token = self.component.token
        self.encoding_aes_key = self.component.encoding_aes_key
        self.consent_appid = demo.DEFAULT_CONSENT_APPID
        self.consent_func_info: list[int] | None = None
        self._clock_offset = 0.0
        self._ticket: Ticket | None = None
        self._previous_ticket: Ticket | None = None
        self.component_access = TokenSlot()
        self.pre_auth_codes: dict[str, float] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self._prune_at = PRUNE_AT
        self.authorizers: dict[str, Authorizer] = {}
        self.token_index: dict[str, str] = {}  # authorizer access token -> appid
        self.openid_index: dict[str, str] = {}  # openid -> appid
        self.counters = CallCounters(self.lock)
        self.quotas = QuotaBook(self.lock, self.settings)
        self.rids = RidLog(self.lock)
        for account in demo.DEMO_AUTHORIZERS.values():
            self.add_authorizer(demo.build_demo_authorizer(account))

    # -- clock: tests move time instead of sleeping --------------------------------------------
    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self._clock_offset += seconds

    def calls(self, endpoint: str, appid: str | None = None) -> int:
        """Shortcut for tests: `world.calls("api_authorizer_token", appid=...)`."""
        return self.counters.calls(endpoint, appid)

    # -- component -----------------------------------------------------------------------------
    def issue_ticket(self) -> str:
        with self.lock:
            self._previous_ticket = self._ticket
            self._ticket = Ticket(new_marked("ticket", 64), self.now())
            return self._ticket.value

    @property
    def ticket(self) -> str | None:
        with self.lock:
            return self._ticket.value if self._ticket else None

    def check_ticket(self, value: str) -> None:
        with self.lock:
            accepted = [self._ticket]
            if self.settings.accept_previous_ticket:
                accepted.append(self._previous_ticket)
            for ticket in accepted:
                if ticket and ticket.value == value:
                    if self.now() - ticket.issued_at > self.settings.ticket_ttl:
                        raise WeChatError(61005)
                    return
            raise WeChatError(61006)

    def check_component_appid(self, appid: str) -> None:
        if appid != self.component_appid:
            # An account's appid is a real appid but not a component; anything else is garbage.
            raise WeChatError(61011 if appid in self.authorizers else 40013)

    def issue_component_token(self) -> tuple[str, int]:
        with self.lock:
            token = new_access_token(64)
            self.component_access.issue(
                token,
                now=self.now(),
                ttl=self.settings.token_ttl,
                grace=self.settings.token_grace_seconds,
            )
            return token, int(self.settings.token_ttl)

    def check_component_token(self, token: str) -> None:
        with self.lock:
            errcode = self.component_access.check(token, self.now())
            if errcode == 40001 and token in self.token_index:
                errcode = 61014
        if errcode:
            raise WeChatError(errcode)

    def expire_component_token(self) -> None:
        with self.lock:
            self.component_access.expire(self.now())

    # -- authorization codes -------------------------------------------------------------------
    def _prune_codes(self) -> None:
        # Long benchmark runs mint codes nobody redeems; drop the expired ones now and then.
        if len(self.pre_auth_codes) + len(self.auth_codes) < self._prune_at:
            return
        now = self.now()
        self.pre_auth_codes = {c: t for c, t in self.pre_auth_codes.items() if t > now}
        self.auth_codes = {c: a for c, a in self.auth_codes.items() if a.expires_at > now}
        # Doubling keeps pruning amortised O(1) when most codes are still live.
        self._prune_at = max(PRUNE_AT, 2 * (len(self.pre_auth_codes) + len(self.auth_codes)))

    def create_pre_auth_code(self) -> tuple[str, int]:
        with self.lock:
            self._prune_codes()
            code = new_marked("preauthcode")
            self.pre_auth_codes[code] = self.now() + self.settings.pre_auth_code_ttl
            return code, int(self.settings.pre_auth_code_ttl)

    def take_pre_auth_code(self, code: str, *, keep: bool = False) -> str | None:
        """Use up a pre_auth_code (or only look, with keep=True, for the page's form); None when
        fine, else why the login page refuses it."""
        with self.lock:
            expires_at = (self.pre_auth_codes.get if keep else self.pre_auth_codes.pop)(code, None)
            if expires_at is None:
                return "invalid"
            return "expired" if self.now() >= expires_at else None

    def consent(
        self, appid: str, *, pre_auth_code: str | None = None, func_info: list[int] | None = None
    ) -> Consent:
        """The account's admin confirms on the authorization page."""
        with self.lock:
            account = self.authorizers[appid]
            info_type = "updateauthorized" if account.authorized else "authorized"
            grant = func_info if func_info is not None else self.consent_func_info
            if grant is not None:
                account.func_info = list(grant)
            # Re-authorizing replaces the refresh token at once (protocol §1.5).
            account.refresh.replace(new_marked("refreshtoken"), now=self.now(), grace=0)
            account.authorized, account.exchanged = True, False
            account.auth_time = int(self.now())
            self._prune_codes()
            code = new_marked("queryauthcode")
            self.auth_codes[code] = AuthCode(appid, self.now() + self.settings.auth_code_ttl)
            return Consent(
                info_type,
                appid,
                code,
                pre_auth_code or new_marked("preauthcode"),
                int(self.settings.auth_code_ttl),
            )

    def redeem_auth_code(self, code: str) -> Authorizer:
        with self.lock:
            found = self.auth_codes.pop(code, None)
            if found is None or not self.authorizers[found.appid].authorized:
                raise WeChatError(61009)
            if self.now() >= found.expires_at:
                raise WeChatError(61010)
            account = self.authorizers[found.appid]
            account.exchanged = True
            return account

    # -- authorizer access tokens --------------------------------------------------------------
    def issue_authorizer_token(self, account: Authorizer) -> str:
        with self.lock:
            token = new_access_token()
            dropped = account.access.issue(
                token,
                now=self.now(),
                ttl=self.settings.token_ttl,
                grace=self.settings.token_grace_seconds,
            )
            for old in dropped:
                self.token_index.pop(old, None)
            self.token_index[token] = account.appid
            return token

    def authorizer_for_token(self, token: str) -> Authorizer:
        with self.lock:
            appid = self.token_index.get(token)
            if appid is None:
                # A component token where an account's is needed is a distinct mistake.
                errcode = 61015 if token == self.component_access.current else 40001
                raise WeChatError(errcode)
            account = self.authorizers[appid]
            errcode = account.access.check(token, self.now())
            if errcode:
                raise WeChatError(errcode)
            return account
