"""Login throttling: per account and per network address, so neither guessing one
account from many addresses nor many accounts from one address goes unchecked."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.identity.ports import ThrottleState


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    max_failures: int
    window: timedelta
    block: timedelta


@dataclass(frozen=True, slots=True)
class CountedAttempt:
    """Where count_attempt counted one attempt, so a successful login can take back exactly that attempt."""

    window_started_at: datetime
    # The block this attempt started by reaching the limit, if it did.
    blocked_until: datetime | None


def blocked_for(state: ThrottleState | None, now: datetime) -> int | None:
    """Seconds the key stays blocked, or None."""
    if state is None or state.blocked_until is None or state.blocked_until <= now:
        return None
    return int((state.blocked_until - now).total_seconds()) + 1


def count_attempt(
    state: ThrottleState | None, key: str, rule: ThrottleRule, now: datetime
) -> tuple[ThrottleState, CountedAttempt]:
    """Count an attempt as a failure before its outcome is known (see IdentityService.login)."""
    if state is None or now - state.window_started_at >= rule.window:
        state = ThrottleState(key=key, failures=0, window_started_at=now, blocked_until=None)
    window_started_at = state.window_started_at
    state.failures += 1
    if state.failures < rule.max_failures:
        return state, CountedAttempt(window_started_at, None)
    state.blocked_until = now + rule.block
    # A new window starts after the block, so one more failure does not re-block at once.
    state.failures = 0
    state.window_started_at = state.blocked_until
    return state, CountedAttempt(window_started_at, state.blocked_until)


def take_back(state: ThrottleState | None, attempt: CountedAttempt, rule: ThrottleRule) -> ThrottleState | None:
    """The key's state once a successful login's own attempt no longer counts, or None to leave it as it is.

    Only that one attempt is taken back, never failures before it: on an address they may be guesses at other
    accounts, and an attacker could otherwise earn fresh guesses by logging in to an account of their own. If the
    attempt reached the limit, the block it started goes too (the failures before it were one short of a block),
    or whoever typed the right password on it, and everyone sharing the address, would be locked out right after
    logging in. Where concurrent attempts leave it unclear what this one still owns (another attempt's block, a
    window that has moved on), nothing is taken back: in doubt the key stays counted, never forgiven.
    """
    if state is None:
        return None
    if attempt.blocked_until is not None:
        untouched = (
            state.blocked_until == attempt.blocked_until
            and state.window_started_at == attempt.blocked_until
            and state.failures == 0
        )
        if not untouched:
            return None
        return replace(
            state, failures=rule.max_failures - 1, window_started_at=attempt.window_started_at, blocked_until=None
        )
    if state.window_started_at != attempt.window_started_at or state.failures == 0:
        return None
    return replace(state, failures=state.failures - 1)
