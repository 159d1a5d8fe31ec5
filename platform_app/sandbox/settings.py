"""Tunable behaviour. Defaults follow WeChat or, where it is silent, the harsher reading."""

from dataclasses import asdict, dataclass, fields


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

    def update(self, changes: dict[str, object]) -> None:
        """Apply known keys with type checks; raise ValueError naming the first bad one."""
        known = {f.name: f.type for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            if known[name] in (bool, "bool"):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        for name, value in changes.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
