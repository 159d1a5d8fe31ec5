"""Injected faults: latency, -1, 45009, timeouts and connection resets, at a chosen rate.

A rule may be scoped to a path prefix and/or to the next N calls; the first live scoped rule
that matches a call wins over the base rule. All randomness comes from one seedable Random.
"""

import random
import threading
from dataclasses import asdict, dataclass, fields

RATE_FIELDS = ("reset_rate", "timeout_rate", "error_rate", "quota_rate")
ACTIONS = dict(zip(RATE_FIELDS, ("reset", "timeout", "error", "quota"), strict=True))


@dataclass
class FaultRule:
    latency_ms: float = 0
    jitter_ms: float = 0  # a uniform 0..jitter_ms is added to latency_ms
    error_rate: float = 0  # answer -1 system error
    quota_rate: float = 0  # answer 45009
    timeout_rate: float = 0  # handle the call, then hold the answer for timeout_seconds
    reset_rate: float = 0  # drop the connection with a TCP RST, no answer
    timeout_seconds: float = 30
    path_prefix: str = ""
    count: int | None = None  # calls left for a scoped rule; None = no limit

    @classmethod
    def from_dict(cls, spec: dict[str, object]) -> "FaultRule":
        known = {f.name for f in fields(cls)}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault knob(s) {sorted(unknown)}")
        rule = cls(**spec)  # type: ignore[arg-type]
        for name in ("latency_ms", "jitter_ms", "timeout_seconds", *RATE_FIELDS):
            value = getattr(rule, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        if any(getattr(rule, name) > 1 for name in RATE_FIELDS):
            raise ValueError("rates are probabilities between 0 and 1")
        if not isinstance(rule.path_prefix, str):
            raise ValueError("path_prefix must be a string")
        if rule.count is not None and (
            isinstance(rule.count, bool) or not isinstance(rule.count, int) or rule.count < 1
        ):
            raise ValueError("count must be a positive integer")
        return rule

    @property
    def scoped(self) -> bool:
        return bool(self.path_prefix) or self.count is not None


@dataclass
class Decision:
    delay: float  # seconds
    action: str | None  # "reset" | "timeout" | "error" | "quota" | None
    timeout_seconds: float


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.base = FaultRule()
        self.scoped: list[FaultRule] = []

    def configure(self, spec: dict[str, object]) -> FaultRule:
        """An unscoped spec replaces the base rule; a scoped one is added in front of it."""
        rule = FaultRule.from_dict(spec)
        with self._lock:
            if rule.scoped:
                self.scoped.append(rule)
            else:
                self.base = rule
        return rule

    def clear(self) -> None:
        with self._lock:
            self.base, self.scoped = FaultRule(), []

    def seed(self, seed: int | None) -> None:
        with self._lock:
            self._rng.seed(seed)

    def decide(self, path: str) -> Decision | None:
        with self._lock:
            rule = self._rule_for(path)
            if rule is None:
                return None
            delay = rule.latency_ms / 1000
            if rule.jitter_ms:
                delay += self._rng.uniform(0, rule.jitter_ms) / 1000
            action, draw, threshold = None, self._rng.random(), 0.0
            for name in RATE_FIELDS:
                threshold += getattr(rule, name)
                if draw < threshold:
                    action = ACTIONS[name]
                    break
        if not delay and action is None:
            return None
        return Decision(delay, action, rule.timeout_seconds)

    def _rule_for(self, path: str) -> FaultRule | None:
        for rule in self.scoped:
            if path.startswith(rule.path_prefix) and (rule.count is None or rule.count > 0):
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count == 0:
                        self.scoped.remove(rule)
                return rule
        return self.base if path.startswith(self.base.path_prefix) else None

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {"base": asdict(self.base), "scoped": [asdict(r) for r in self.scoped]}
