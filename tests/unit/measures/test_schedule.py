from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.measures.instruments import GAD7, PHQ9
from domain.measures.schedule import (
    Assignment,
    DueMeasure,
    Frequency,
    due_now,
    end_assignment,
    new_assignment,
    next_due,
    parse_frequency,
)
from domain.shared.errors import ValidationFailed
from tests.unit.measures.factories import CLIENT, PRACTICE, THERAPIST, uid, utc

CREATED = utc(2026, 5, 1, 12)
ID = uid(100)


def assign(frequency: Frequency | str, **kw: object) -> Assignment:
    fields: dict[str, object] = {
        "id": ID,
        "practice_id": PRACTICE,
        "client_id": CLIENT,
        "therapist_id": THERAPIST,
        "instrument": PHQ9,
        "frequency": frequency,
        "created_at": CREATED,
    } | kw
    return new_assignment(**fields)  # type: ignore[arg-type]


def pending(
    a: Assignment, now: datetime, last: datetime | None = None, sessions: tuple[datetime, ...] = ()
) -> DueMeasure | None:
    return next_due(a, now=now, last_completed_at=last, session_starts=sessions)


def due(a: Assignment, now: datetime, last: datetime | None = None, sessions: tuple[datetime, ...] = ()) -> bool:
    return due_now(a, now=now, last_completed_at=last, session_starts=sessions) is not None


# ---------------------------------------------------------------------------------------------- validation


def test_new_assignment_defaults() -> None:
    a = assign("once")
    assert a.frequency is Frequency.ONCE
    assert a.starts_at == CREATED
    assert a.instrument_code == "phq9"
    assert (a.interval_days, a.lead_hours, a.ended_at) == (None, None, None)
    assert a.active
    s = assign(Frequency.BEFORE_EVERY_SESSION)
    assert s.lead_hours == 48
    assert assign("before_every_session", lead_hours=24).lead_hours == 24
    n = assign("every_n_days", interval_days=14, instrument=GAD7)
    assert (n.interval_days, n.instrument_code) == (14, "gad7")


@pytest.mark.parametrize("value", ["weekly", "", "ONCE", "every n days"])
def test_unknown_frequency(value: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        assign(value)
    assert (err.value.code, err.value.field) == ("invalid_frequency", "frequency")
    with pytest.raises(ValidationFailed):
        parse_frequency(value)


@pytest.mark.parametrize("interval", [1, 2, 30, 89, 90])
def test_every_n_days_accepts_1_to_90(interval: int) -> None:
    assert assign("every_n_days", interval_days=interval).interval_days == interval


@pytest.mark.parametrize("interval", [None, 0, -1, 91, 365, True, 7.0, "7"], ids=repr)
def test_every_n_days_refuses_other_intervals(interval: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        assign("every_n_days", interval_days=interval)
    assert (err.value.code, err.value.field) == ("invalid_interval", "interval_days")


@pytest.mark.parametrize("frequency", ["once", "before_every_session"])
def test_only_every_n_days_takes_an_interval(frequency: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        assign(frequency, interval_days=7)
    assert err.value.code == "invalid_interval"


@pytest.mark.parametrize("lead", [0, -5, 169, True, 1.5], ids=repr)
def test_before_every_session_lead_time_is_1_to_168_hours(lead: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        assign("before_every_session", lead_hours=lead)
    assert (err.value.code, err.value.field) == ("invalid_lead_time", "lead_hours")
    assert assign("before_every_session", lead_hours=1).lead_hours == 1
    assert assign("before_every_session", lead_hours=168).lead_hours == 168


@pytest.mark.parametrize("frequency", ["once", "every_n_days"])
def test_only_before_every_session_takes_a_lead_time(frequency: str) -> None:
    extra = {"interval_days": 7} if frequency == "every_n_days" else {}
    with pytest.raises(ValidationFailed) as err:
        assign(frequency, lead_hours=24, **extra)
    assert err.value.code == "invalid_lead_time"


def test_naive_times_and_self_assignment_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        assign("once", created_at=datetime(2026, 5, 1, 12))
    assert (err.value.code, err.value.field) == ("invalid_datetime", "created_at")
    with pytest.raises(ValidationFailed) as err:
        assign("once", starts_at=datetime(2026, 5, 1, 12))
    assert (err.value.code, err.value.field) == ("invalid_datetime", "starts_at")
    with pytest.raises(ValidationFailed) as err:
        assign("once", client_id=THERAPIST)
    assert err.value.code == "invalid_participants"


def test_times_are_normalised_to_utc() -> None:
    ny = ZoneInfo("America/New_York")
    a = assign("once", created_at=datetime(2026, 5, 1, 8, tzinfo=ny), starts_at=datetime(2026, 5, 2, 8, tzinfo=ny))
    assert a.created_at == CREATED
    assert a.starts_at == utc(2026, 5, 2, 12)
    assert a.starts_at.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------------------------------- once


def test_once_is_due_from_its_start_until_completed() -> None:
    a = assign("once", starts_at=utc(2026, 5, 3))
    assert not due(a, utc(2026, 5, 2, 23, 59))
    assert pending(a, utc(2026, 5, 2)) == DueMeasure(ID, "phq9", utc(2026, 5, 3))
    assert due(a, utc(2026, 5, 3))
    assert due(a, utc(2026, 6, 30))  # overdue stays due
    assert due_now(a, now=utc(2026, 5, 3), last_completed_at=None) == DueMeasure(ID, "phq9", utc(2026, 5, 3))


def test_once_is_done_after_one_completion() -> None:
    a = assign("once")
    assert pending(a, CREATED + timedelta(days=1), last=CREATED + timedelta(hours=1)) is None
    assert pending(a, CREATED + timedelta(days=400), last=CREATED) is None


def test_once_ignores_a_completion_from_before_its_start() -> None:
    a = assign("once")
    assert due(a, CREATED + timedelta(hours=1), last=CREATED - timedelta(seconds=1))


# -------------------------------------------------------------------------------------------- every N days


def test_every_n_days_first_due_at_the_start_then_n_days_after_each_completion() -> None:
    a = assign("every_n_days", interval_days=14, starts_at=utc(2026, 5, 4, 9))
    assert pending(a, CREATED) == DueMeasure(ID, "phq9", utc(2026, 5, 4, 9))
    assert not due(a, utc(2026, 5, 4, 8, 59))
    assert due(a, utc(2026, 5, 4, 9))
    done = utc(2026, 5, 5, 18, 30)  # completed a day late: the next one counts from the completion
    assert pending(a, done, last=done) == DueMeasure(ID, "phq9", utc(2026, 5, 19, 18, 30))
    assert not due(a, utc(2026, 5, 19, 18, 29), last=done)
    assert due(a, utc(2026, 5, 19, 18, 30), last=done)
    assert due(a, utc(2026, 7, 1), last=done)


def test_every_day() -> None:
    a = assign("every_n_days", interval_days=1)
    assert pending(a, CREATED, last=CREATED + timedelta(hours=2)) == DueMeasure(
        ID, "phq9", CREATED + timedelta(hours=26)
    )


@pytest.mark.parametrize(
    ("done", "interval", "next_at"),
    [
        # 2026-03-08 US spring forward: 14 x 24 real hours, not "the same wall-clock time".
        (utc(2026, 3, 1, 14), 14, utc(2026, 3, 15, 14)),
        # 2026-11-01 US fall back.
        (utc(2026, 10, 25, 13), 7, utc(2026, 11, 1, 13)),
        # 2026-03-29 EU spring forward.
        (utc(2026, 3, 28, 23, 30), 1, utc(2026, 3, 29, 23, 30)),
        # across a month and a leap-free February
        (utc(2026, 2, 20), 10, utc(2026, 3, 2)),
        (utc(2026, 5, 1, 12), 90, utc(2026, 7, 30, 12)),
    ],
)
def test_every_n_days_is_plain_utc_arithmetic(done: datetime, interval: int, next_at: datetime) -> None:
    a = assign("every_n_days", interval_days=interval, created_at=utc(2026, 1, 1))
    result = pending(a, done, last=done)
    assert result is not None
    assert result.due_at == next_at
    assert result.due_at - done == timedelta(hours=24 * interval)


def test_every_n_days_with_a_local_completion_time() -> None:
    ny = ZoneInfo("America/New_York")
    a = assign("every_n_days", interval_days=7, created_at=utc(2026, 1, 1))
    done = datetime(2026, 3, 5, 9, tzinfo=ny)  # 14:00 UTC, EST
    result = pending(a, done, last=done)
    assert result is not None
    assert result.due_at == utc(2026, 3, 12, 14)  # 10:00 EDT local: the clocks moved, the interval did not


def test_every_n_days_ignores_completions_before_its_start() -> None:
    a = assign("every_n_days", interval_days=14, starts_at=utc(2026, 5, 10))
    result = pending(a, utc(2026, 5, 9), last=utc(2026, 5, 8))
    assert result == DueMeasure(ID, "phq9", utc(2026, 5, 10))


# ------------------------------------------------------------------------------------ before every session

MON = utc(2026, 5, 11, 14)
MON2 = MON + timedelta(days=7)
MON3 = MON + timedelta(days=14)


def test_before_session_opens_48_hours_before() -> None:
    a = assign("before_every_session")
    sessions = (MON, MON2)
    assert pending(a, utc(2026, 5, 8), sessions=sessions) == DueMeasure(ID, "phq9", MON - timedelta(hours=48), MON)
    assert not due(a, MON - timedelta(hours=48, seconds=1), sessions=sessions)
    assert due(a, MON - timedelta(hours=48), sessions=sessions)
    assert due(a, MON - timedelta(minutes=1), sessions=sessions)


def test_before_session_with_a_custom_lead_time() -> None:
    a = assign("before_every_session", lead_hours=6)
    assert not due(a, MON - timedelta(hours=7), sessions=(MON,))
    assert due(a, MON - timedelta(hours=6), sessions=(MON,))


def test_before_every_session_across_several_sessions() -> None:
    a = assign("before_every_session")
    sessions = (MON, MON2, MON3)
    # Completed the day before the first session: nothing more until 48 h before the second.
    first_done = MON - timedelta(hours=20)
    after = pending(a, first_done, last=first_done, sessions=sessions)
    assert after == DueMeasure(ID, "phq9", MON2 - timedelta(hours=48), MON2)
    assert not due(a, MON + timedelta(days=3), last=first_done, sessions=sessions)
    assert due(a, MON2 - timedelta(hours=47), last=first_done, sessions=sessions)
    # Completed for the second: the third opens 48 h before it.
    second_done = MON2 - timedelta(hours=1)
    assert not due(a, MON2 + timedelta(days=4), last=second_done, sessions=sessions)
    assert pending(a, MON2 + timedelta(days=5), last=second_done, sessions=sessions) == DueMeasure(
        ID, "phq9", MON3 - timedelta(hours=48), MON3
    )
    # Missed the third (never completed after the second session): once it began, it is too late for it,
    # and with no later session nothing is pending.
    assert pending(a, MON3 + timedelta(minutes=1), last=second_done, sessions=sessions) is None


def test_a_missed_session_moves_on_to_the_next() -> None:
    a = assign("before_every_session")
    # Never completed; the first session has begun: now due for the second, from its 48 h window.
    result = pending(a, MON + timedelta(hours=1), sessions=(MON, MON2))
    assert result == DueMeasure(ID, "phq9", MON2 - timedelta(hours=48), MON2)


def test_a_completion_since_the_previous_session_counts_even_outside_the_window() -> None:
    a = assign("before_every_session")
    done = MON + timedelta(days=1)  # the day after the first session, 6 days before the second
    assert not due(a, MON2 - timedelta(hours=1), last=done, sessions=(MON, MON2))
    # A completion from before the previous session does not.
    before = MON - timedelta(hours=1)
    assert due(a, MON2 - timedelta(hours=1), last=before, sessions=(MON, MON2))


def test_past_sessions_tell_which_completion_counts() -> None:
    a = assign("before_every_session")
    # The caller passes the latest past session too: the completion before it does not cover the next one.
    assert due(a, MON2 - timedelta(hours=2), last=MON - timedelta(hours=3), sessions=(MON, MON2))
    # Without any session the assignment has nothing to be due for.
    assert pending(a, MON2, last=None, sessions=()) is None


def test_sessions_on_consecutive_days_never_ask_twice_in_a_row() -> None:
    a = assign("before_every_session")
    tue = MON + timedelta(days=1)
    done = MON - timedelta(hours=10)
    result = pending(a, done, last=done, sessions=(MON, tue))
    # Tuesday's window would open Sunday 14:00, but it opens only when Monday's session starts.
    assert result == DueMeasure(ID, "phq9", MON, tue)
    assert not due(a, MON - timedelta(minutes=1), last=done, sessions=(MON, tue))
    assert due(a, MON + timedelta(minutes=1), last=done, sessions=(MON, tue))


def test_session_order_duplicates_and_zones_do_not_matter() -> None:
    a = assign("before_every_session")
    ny = ZoneInfo("America/New_York")
    mon_local = MON.astimezone(ny)
    result = pending(a, utc(2026, 5, 10), sessions=(MON3, mon_local, MON2, MON))
    assert result == DueMeasure(ID, "phq9", MON - timedelta(hours=48), MON)
    assert result.session_start is not None and result.session_start.utcoffset() == timedelta(0)


def test_before_session_never_opens_before_the_assignment_starts() -> None:
    created = MON - timedelta(hours=10)
    a = assign("before_every_session", created_at=created)
    assert pending(a, created, sessions=(MON,)) == DueMeasure(ID, "phq9", created, MON)
    # A session before the assignment started is not one to prepare for.
    late = assign("before_every_session", created_at=MON2 - timedelta(days=3))
    assert pending(late, MON2 - timedelta(days=3), sessions=(MON, MON2)) == DueMeasure(
        ID, "phq9", MON2 - timedelta(hours=48), MON2
    )


def test_a_session_starting_now_is_too_late() -> None:
    a = assign("before_every_session")
    assert pending(a, MON, sessions=(MON,)) is None


def test_naive_session_start_is_refused() -> None:
    a = assign("before_every_session")
    with pytest.raises(ValidationFailed) as err:
        pending(a, utc(2026, 5, 10), sessions=(datetime(2026, 5, 11, 14),))
    assert err.value.code == "invalid_datetime"
    with pytest.raises(ValidationFailed):
        pending(a, datetime(2026, 5, 10), sessions=(MON,))


# -------------------------------------------------------------------------------------------------- ending


def test_an_ended_assignment_is_never_due() -> None:
    a = end_assignment(assign("every_n_days", interval_days=7), at=utc(2026, 5, 20))
    assert a.ended_at == utc(2026, 5, 20)
    assert not a.active
    last = utc(2026, 5, 10)
    assert due(a, utc(2026, 5, 18), last=last)  # due on 5/17, before the end
    assert pending(a, utc(2026, 5, 20), last=last) is None
    assert pending(a, utc(2026, 5, 15), last=utc(2026, 5, 14)) is None  # would be due 5/21, after the end


def test_ending_twice_keeps_the_first_end() -> None:
    first = end_assignment(assign("once"), at=utc(2026, 5, 20))
    assert end_assignment(first, at=utc(2026, 6, 1)) is first
    with pytest.raises(ValidationFailed):
        end_assignment(assign("once"), at=datetime(2026, 5, 20))


def test_an_ended_before_session_assignment() -> None:
    a = end_assignment(assign("before_every_session"), at=MON2 - timedelta(days=3))
    assert due(a, MON - timedelta(hours=1), sessions=(MON, MON2))
    assert pending(a, MON + timedelta(hours=1), sessions=(MON, MON2)) is None
