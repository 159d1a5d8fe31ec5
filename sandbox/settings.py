"""Tunable behaviour. Defaults follow WeChat or, where it is silent, the harsher reading."""

from dataclasses import asdict, dataclass, field, fields

# An authorizer's daily call limit per cgi path. WeChat publishes none for these: getidlist is a
# guess, batchget the legacy table's 获取用户基本信息 figure, tags/get a community report.
DEFAULT_DAILY_QUOTA: dict[str, int] = {
    "/cgi-bin/tags/getidlist": 1_000_000,
    "/cgi-bin/tags/get": 1_000,
    "/cgi-bin/user/info/batchget": 5_000_000,
}
CGI_PREFIX = "/cgi-bin/"


def check_daily_quota(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError("daily_quota must be an object of cgi path -> daily limit")
    for path, limit in value.items():
        if not isinstance(path, str) or not path.startswith(CGI_PREFIX):
            raise ValueError(f"daily_quota path {path!r} must start with {CGI_PREFIX}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"daily_quota limit for {path} must be a non-negative integer")
    return dict(value)


@dataclass
class Settings:
    token_ttl: float = 7200
    # 0: an old access token (component or authorizer) dies the moment a new one is issued.
    token_grace_seconds: float = 0
    # False: api_authorizer_token echoes the same refresh token (WeChat's documented behaviour).
    rotate_refresh_token: bool = False
    # Only with rotation: how long the replaced refresh token keeps working (community: 5 min).
    refresh_token_grace_seconds: float = 300
    pre_auth_code_ttl: float = 600
    auth_code_ttl: float = 600
    ticket_ttl: float = 12 * 3600
    # False: api_component_token accepts only the most recent ticket pushed.
    accept_previous_ticket: bool = False
    ticket_interval: float = 600
    # Per cgi path; an update merges into it (a path absent here is not metered).
    daily_quota: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAILY_QUOTA))
    # True: a browser (Accept: text/html) opening the authorization page gets a form to pick
    # the account and its grant. False: the page consents at once for everyone (tests, scripts).
    interactive_login: bool = False

    def update(self, changes: dict[str, object]) -> None:
        """Apply known keys with type checks; raise ValueError naming the first bad one."""
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            if name == "daily_quota":
                check_daily_quota(value)
            elif known[name] in (bool, "bool"):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        for name, value in changes.items():
            if name == "daily_quota":
                value = self.daily_quota | check_daily_quota(value)
            setattr(self, name, value)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)  # a deep copy: daily_quota is not shared
