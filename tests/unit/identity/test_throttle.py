"""A successful login takes back its own attempt, and nothing else, from the address's count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.identity.throttle import ThrottleRule, blocked_for, count_attempt, take_back

RULE = ThrottleRule(max_failures=3, window=timedelta(minutes=15), block=timedelta(minutes=15))
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
KEY = "address:10.0.0.1"


def test_a_success_below_the_limit_takes_back_only_its_own_attempt():
    state, _ = count_attempt(None, KEY, RULE, T0)
    state, mine = count_attempt(state, KEY, RULE, T0)
    restored = take_back(state, mine, RULE)
    assert restored is not None and restored.failures == 1 and restored.window_started_at == T0


def test_a_success_on_the_attempt_reaching_the_limit_lifts_the_block_it_started():
    state = None
    for _ in range(2):
        state, _ = count_attempt(state, KEY, RULE, T0)
    state, mine = count_attempt(state, KEY, RULE, T0 + timedelta(seconds=5))
    assert blocked_for(state, T0 + timedelta(seconds=6)) is not None
    restored = take_back(state, mine, RULE)
    assert restored is not None and blocked_for(restored, T0 + timedelta(seconds=6)) is None
    # The two failures before it still count: one more blocks again.
    assert (restored.failures, restored.window_started_at) == (2, T0)
    again, _ = count_attempt(restored, KEY, RULE, T0 + timedelta(seconds=7))
    assert blocked_for(again, T0 + timedelta(seconds=8)) is not None


def test_a_success_does_not_lift_a_block_another_attempt_started():
    state, _ = count_attempt(None, KEY, RULE, T0)
    state, mine = count_attempt(state, KEY, RULE, T0)
    state, _ = count_attempt(state, KEY, RULE, T0)  # a concurrent guess reaches the limit
    assert take_back(state, mine, RULE) is None


def test_a_block_that_has_ended_and_counted_again_is_left_alone():
    state = None
    for _ in range(3):
        state, mine = count_attempt(state, KEY, RULE, T0)
    later = T0 + RULE.block + timedelta(seconds=1)
    state, _ = count_attempt(state, KEY, RULE, later)
    assert take_back(state, mine, RULE) is None


def test_nothing_to_take_back_from_a_window_that_has_moved_on():
    state, mine = count_attempt(None, KEY, RULE, T0)
    state, _ = count_attempt(state, KEY, RULE, T0 + RULE.window)
    assert take_back(state, mine, RULE) is None
