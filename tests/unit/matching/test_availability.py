from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.matching.availability import (
    describe_times,
    fitting_sessions,
    hours_bound,
    index_slots,
    open_slots,
    preferred_windows,
    window_bounds,
)
from domain.scheduling.model import DateException, OfficeHours, TimeRange, WeeklyRule
from tests.unit.matching.factories import EVENINGS, NOW, NY, intake, office, therapist, weekdays
from tests.unit.scheduling.factories import hm

HORIZON = timedelta(days=14)
NEW_YORK = ZoneInfo(NY)


def local(day: date, wall: str, zone: ZoneInfo = NEW_YORK) -> datetime:
    h, m = wall.split(":")
    return datetime(day.year, day.month, day.day, int(h), int(m), tzinfo=zone).astimezone(UTC)


def count(
    candidate_hours: OfficeHours | None, client_times: object = EVENINGS, days: tuple[int, ...] = (), **kw: object
) -> int:
    client = intake(times=client_times, days=days)
    found = open_slots(therapist(hours=candidate_hours, **kw), 50, NOW, HORIZON)  # type: ignore[arg-type]
    return fitting_sessions(found, window_bounds(preferred_windows(client, NOW, NOW + HORIZON)))[0]


# ---------------------------------------------------------------------------------------------- windows


def test_weekday_evenings_are_ten_windows_in_two_weeks() -> None:
    windows = preferred_windows(intake(times=EVENINGS, days=(1, 2, 3, 4, 5)), NOW, NOW + HORIZON)
    assert len(windows) == 10
    assert windows[0].start == local(date(2026, 5, 4), "17:00")  # Monday evening, 21:00 UTC
    assert all(w.end - w.start == timedelta(hours=4) for w in windows)
    assert windows[-1].start == local(date(2026, 5, 15), "17:00")


def test_windows_follow_the_clients_zone_across_dst() -> None:
    before = datetime(2026, 10, 29, 12, tzinfo=UTC)
    windows = preferred_windows(intake(times=EVENINGS, days=(1, 2, 3, 4, 5)), before, before + timedelta(days=7))
    starts = [w.start for w in windows]
    assert datetime(2026, 10, 30, 21, tzinfo=UTC) in starts  # Friday, still EDT
    assert datetime(2026, 11, 2, 22, tzinfo=UTC) in starts  # Monday, EST: 17:00 local is an hour later in UTC


def test_ranges_across_midnight_merge_into_one_window() -> None:
    late = (TimeRange(hm("00:00"), hm("02:00")), TimeRange(hm("22:00"), time(0)))
    windows = preferred_windows(intake(times=late), NOW, NOW + timedelta(days=3))
    assert any(w.end - w.start == timedelta(hours=4) for w in windows)
    assert all(b.start > a.end for a, b in itertools.pairwise(windows))  # disjoint, sorted


def test_no_preference_is_one_window_over_everything() -> None:
    windows = preferred_windows(intake(), NOW, NOW + HORIZON)
    assert len(windows) == 1
    assert windows[0].start <= NOW and windows[0].end >= NOW + HORIZON


# ---------------------------------------------------------------------------------------------- counting


def test_sessions_are_counted_without_overlap() -> None:
    # 17:00-21:00 on weekdays; 50-minute sessions on a 15-minute grid: 17:00, 18:00, 19:00, 20:00 (20:50 end).
    assert count(office()) == 4 * 10


def test_busy_time_removes_sessions() -> None:
    monday = date(2026, 5, 4)
    busy = ((local(monday, "18:00"), local(monday, "18:50")),)
    assert count(office(), busy=busy) == 4 * 10 - 1


def test_only_times_inside_the_clients_windows_count() -> None:
    nine_to_five = office(weekdays("09:00", "17:00"))
    assert count(nine_to_five) == 0
    assert count(nine_to_five, client_times=(TimeRange(hm("12:00"), hm("14:00")),)) == 2 * 10
    assert count(nine_to_five, client_times=(TimeRange(hm("12:00"), hm("14:00")),), days=(6, 7)) == 0


def test_client_in_another_zone_reads_times_in_their_own_clock() -> None:
    # Therapist 17:00-21:00 New York = 14:00-18:00 Los Angeles. A Los Angeles client asking for 14:00-18:00 fits.
    client = intake(timezone="America/Los_Angeles", times=(TimeRange(hm("14:00"), hm("18:00")),))
    found = open_slots(therapist(), 50, NOW, HORIZON)
    assert fitting_sessions(found, window_bounds(preferred_windows(client, NOW, NOW + HORIZON)))[0] == 40


def test_no_office_hours_no_open_times() -> None:
    assert count(None) == 0


def test_keep_and_stop_at() -> None:
    found = open_slots(therapist(), 50, NOW, HORIZON)
    windows = window_bounds(preferred_windows(intake(times=EVENINGS), NOW, NOW + HORIZON))
    total, first = fitting_sessions(found, windows, keep=2)
    assert total == 40
    assert [s.start for s in first] == [local(date(2026, 5, 4), "17:00"), local(date(2026, 5, 4), "18:00")]
    assert fitting_sessions(found, windows, stop_at=8)[0] == 8
    assert fitting_sessions(index_slots(()), windows) == (0, ())


# ---------------------------------------------------------------------------------------------- the cheap bound


def test_bound_is_exact_without_busy_time_or_rules() -> None:
    windows = window_bounds(preferred_windows(intake(times=EVENINGS), NOW, NOW + HORIZON))
    assert hours_bound(office(), windows, 50, NOW) == 40
    assert hours_bound(office(weekdays("09:00", "17:00")), windows, 50, NOW) == 0
    assert hours_bound(None, windows, 50, NOW) == 0


def test_bound_sees_exceptions() -> None:
    saturday = date(2026, 5, 9)  # no weekly hours on Saturdays
    hours = office(exceptions=(DateException(saturday, (TimeRange(hm("17:00"), hm("19:00")),)),))
    windows = window_bounds(preferred_windows(intake(times=EVENINGS, days=(6,)), NOW, NOW + HORIZON))
    assert hours_bound(hours, windows, 50, NOW) == 2
    assert count(hours, days=(6,)) == 2


def test_bound_gives_up_across_a_dst_change() -> None:
    before = datetime(2026, 10, 26, 12, tzinfo=UTC)
    windows = window_bounds(preferred_windows(intake(times=EVENINGS), before, before + HORIZON))
    assert hours_bound(office(), windows, 50, before) is None
    assert hours_bound(office(zone="Asia/Tokyo"), windows, 50, before) is not None  # Tokyo keeps its offset


walls = st.integers(0, 47).map(lambda half_hours: time(half_hours // 2, 30 * (half_hours % 2)))


@st.composite
def weekly_rules(draw: st.DrawFn) -> tuple[WeeklyRule, ...]:
    rules = []
    for day in draw(st.lists(st.integers(1, 7), unique=True, max_size=7)):
        start = draw(st.integers(0, 44))
        end = draw(st.integers(start + 1, 48))
        rules.append(WeeklyRule(day, time(start // 2, 30 * (start % 2)), time((end // 2) % 24, 30 * (end % 2))))
    return tuple(rules)


@settings(max_examples=150, deadline=None)
@given(
    weekly=weekly_rules(),
    zone=st.sampled_from(["America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney"]),
    client_zone=st.sampled_from(["America/Los_Angeles", "Europe/Berlin"]),
    start_hour=st.integers(0, 47),
    length=st.sampled_from([10, 30, 50, 60]),
    day_offset=st.integers(0, 365),
    buffer=st.sampled_from([0, 15]),
    with_exception=st.booleans(),
    client_range=st.tuples(st.integers(0, 23), st.integers(1, 24)).filter(lambda r: r[0] < r[1]),
    client_days=st.lists(st.integers(1, 7), unique=True).map(lambda d: tuple(sorted(d))),
)
def test_bound_is_never_below_the_real_count(
    weekly: tuple[WeeklyRule, ...],
    zone: str,
    client_zone: str,
    start_hour: int,
    length: int,
    day_offset: int,
    buffer: int,
    with_exception: bool,
    client_range: tuple[int, int],
    client_days: tuple[int, ...],
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day_offset, minutes=30 * start_hour)
    exceptions = (
        (DateException((now + timedelta(days=3)).date(), (TimeRange(hm("06:00"), hm("23:00")),)),)
        if with_exception
        else ()
    )
    hours = OfficeHours(timezone=zone, weekly=weekly, exceptions=exceptions, buffer_minutes=buffer)
    lo, hi = client_range
    client = intake(timezone=client_zone, days=client_days, times=(TimeRange(time(lo), time(hi % 24)),))
    windows = window_bounds(preferred_windows(client, now, now + HORIZON))
    real = fitting_sessions(open_slots(therapist(hours=hours), length, now, HORIZON), windows)[0]
    bound = hours_bound(hours, windows, length, now)
    assert bound is None or bound >= real


# ---------------------------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("days", "times", "words"),
    [
        ((), EVENINGS, "your evenings"),
        ((1, 2, 3, 4, 5), EVENINGS, "your weekday evenings"),
        ((6, 7), (TimeRange(hm("08:00"), hm("12:00")),), "your weekend mornings"),
        ((1, 3), (TimeRange(hm("12:00"), hm("15:00")),), "your Monday and Wednesday afternoons"),
        ((), (TimeRange(hm("07:00"), hm("09:00")), TimeRange(hm("18:00"), hm("21:00"))), "your mornings and evenings"),
        ((), (TimeRange(hm("10:00"), hm("20:00")),), "your preferred times"),
        ((1, 3), (), "your Mondays and Wednesdays"),
        ((), (), ""),
        (tuple(range(1, 8)), (), ""),
    ],
)
def test_describe_times(days: tuple[int, ...], times: tuple[TimeRange, ...], words: str) -> None:
    assert describe_times(intake(days=days, times=times)) == words
