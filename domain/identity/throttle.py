"""Login throttling: per account and per network address, so neither guessing one
account from many addresses nor many accounts from one address goes unchecked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.identity.ports import ThrottleState


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    max_failures: int
    window: timedelta
    block: timedelta


def blocked_for(state: ThrottleState | None, now: datetime) -> int | None:
    """Seconds the key stays blocked, or None."""
    if state is None or state.blocked_until is None or state.blocked_until <= now:
        return None
    return int((state.blocked_until - now).total_seconds()) + 1


def after_failure(state: ThrottleState | None, key: str, rule: ThrottleRule, now: datetime) -> ThrottleState:
    if state is None or now - state.window_started_at >= rule.window:
        state = ThrottleState(key=key, failures=0, window_started_at=now, blocked_until=None)
    state.failures += 1
    if state.failures >= rule.max_failures:
        state.blocked_until = now + rule.block
        # A new window starts after the block, so one more failure does not re-block at once.
        state.failures = 0
        state.window_started_at = now + rule.block
    return state
