from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling.model import AppointmentStatus, DateException, OfficeHours, WeeklyRule
from domain.scheduling.slots import (
    Slot,
    available_slots,
    busy_intervals,
    check_bookable,
    in_messaging_hours,
    working_intervals,
)
from domain.shared.errors import ValidationFailed
from tests.unit.scheduling.factories import appointment, every_day, hm, hours, rng, utc

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
# Monday 2026-05-04, New York on EDT (UTC-4); "now" is well before, so notice and horizon do not interfere.
MONDAY = date(2026, 5, 4)
EARLY = utc(2026, 4, 20, 12)


def ny(day: date, wall: str) -> datetime:
    h, m = wall.split(":")
    return datetime(day.year, day.month, day.day, int(h), int(m), tzinfo=NY).astimezone(ZoneInfo("UTC"))


def local_walls(slots: list[Slot], zone: ZoneInfo = NY) -> list[str]:
    return [s.start.astimezone(zone).strftime("%H:%M") for s in slots]


def day_slots(
    office_hours: OfficeHours,
    day: date,
    minutes: int = 50,
    *,
    busy: list[tuple[datetime, datetime]] | None = None,
    now: datetime = EARLY,
    step: int = 15,
    zone: ZoneInfo = NY,
) -> list[Slot]:
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    return available_slots(office_hours, busy or [], start, end, minutes, now, step)


# ------------------------------------------------------------------------------------------- basics


def test_plain_day_on_a_15_minute_grid() -> None:
    slots = day_slots(hours(), MONDAY, 50)
    walls = local_walls(slots)
    assert walls[0] == "09:00"
    assert walls[-1] == "16:00"  # 16:00 + 50 min = 16:50 <= 17:00; 16:15 would end at 17:05
    assert len(slots) == 29
    assert all(s.end - s.start == timedelta(minutes=50) for s in slots)
    assert slots[0].start == utc(2026, 5, 4, 13)
    assert all(s.start.utcoffset() == timedelta(0) for s in slots)


def test_step_five_offers_more_starts() -> None:
    one_hour = hours(weekly=(WeeklyRule(1, hm("09:00"), hm("10:00")),))
    assert local_walls(day_slots(one_hour, MONDAY, 30, step=15)) == ["09:00", "09:15", "09:30"]
    assert len(day_slots(one_hour, MONDAY, 30, step=5)) == 7


def test_grid_is_anchored_at_the_range_start() -> None:
    odd = hours(weekly=(WeeklyRule(1, hm("09:10"), hm("10:10")),))
    assert local_walls(day_slots(odd, MONDAY, 30)) == ["09:10", "09:25", "09:40"]


@pytest.mark.parametrize("step", [0, 3, 7, 65, 90])
def test_invalid_step(step: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        day_slots(hours(), MONDAY, 50, step=step)
    assert err.value.code == "invalid_step"


def test_invalid_duration_and_window() -> None:
    with pytest.raises(ValidationFailed) as err:
        day_slots(hours(), MONDAY, 45 + 2)
    assert err.value.code == "invalid_duration"
    with pytest.raises(ValidationFailed) as err:
        available_slots(hours(), [], utc(2026, 5, 5), utc(2026, 5, 4), 50, EARLY)
    assert err.value.code == "invalid_window"


def test_window_bounds_the_start_not_the_end() -> None:
    slots = available_slots(hours(), [], ny(MONDAY, "10:00"), ny(MONDAY, "11:00"), 50, EARLY)
    assert local_walls(slots) == ["10:00", "10:15", "10:30", "10:45"]
    assert slots[-1].end == ny(MONDAY, "11:35")


# ------------------------------------------------------------------------------------------- busy time


def test_existing_appointment_blocks_its_time() -> None:
    busy = [(ny(MONDAY, "10:00"), ny(MONDAY, "10:50"))]
    walls = local_walls(day_slots(hours(), MONDAY, 50, busy=busy))
    assert "09:00" in walls
    assert "11:00" in walls
    for blocked in ("09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"):
        assert blocked not in walls


def test_buffer_keeps_a_gap_around_appointments() -> None:
    busy = [(ny(MONDAY, "10:00"), ny(MONDAY, "10:50"))]
    walls = local_walls(day_slots(hours(buffer_minutes=15), MONDAY, 50, busy=busy))
    assert "09:00" not in walls  # ends 09:50, only 10 minutes before the session
    assert "11:00" not in walls  # starts 10 minutes after it ends
    assert "11:15" in walls
    assert "08:45" not in walls
    walls_10 = local_walls(day_slots(hours(buffer_minutes=10), MONDAY, 50, busy=busy))
    assert "09:00" in walls_10  # exactly 10 minutes gap is enough
    assert "11:00" in walls_10


def test_busy_intervals_keep_only_blocking_appointments() -> None:
    kept = appointment(ny(MONDAY, "10:00"))
    gone = appointment(ny(MONDAY, "12:00"), status=AppointmentStatus.CANCELLED)
    late = appointment(ny(MONDAY, "13:00"), status=AppointmentStatus.LATE_CANCELLED)
    done = appointment(ny(MONDAY, "09:00"), status=AppointmentStatus.COMPLETED)
    assert busy_intervals([kept, gone, late, done]) == [Slot(done.start, done.end), Slot(kept.start, kept.end)]


def test_daily_limit_counts_by_the_therapists_local_day() -> None:
    monday_late_evening = utc(2026, 5, 5, 2)  # 22:00 EDT on Monday, already Tuesday in UTC
    busy = [
        (ny(MONDAY, "10:00"), ny(MONDAY, "10:50")),
        (monday_late_evening, monday_late_evening + timedelta(minutes=50)),
    ]
    limited = hours(max_sessions_per_day=2)
    assert day_slots(limited, MONDAY, 50, busy=busy) == []
    assert day_slots(limited, MONDAY + timedelta(days=1), 50, busy=busy) != []
    assert len(day_slots(hours(max_sessions_per_day=3), MONDAY, 50, busy=busy)) > 0


def test_daily_limit_applies_to_slots_whose_utc_date_is_the_next_day() -> None:
    evenings = hours(weekly=every_day("18:00", "22:00"), max_sessions_per_day=1)
    busy = [(ny(MONDAY, "18:00"), ny(MONDAY, "18:50"))]
    assert day_slots(evenings, MONDAY, 50, busy=busy) == []  # 20:00-21:10 EDT are already Tuesday in UTC
    tuesday = day_slots(evenings, MONDAY + timedelta(days=1), 50, busy=busy)
    assert local_walls(tuesday)[0] == "18:00"
    assert tuesday[-1].start.date() == MONDAY + timedelta(days=2)  # 21:00 EDT = 01:00Z Wednesday


# ------------------------------------------------------------------------------------------- notice, horizon


def test_minimum_notice() -> None:
    now = ny(MONDAY, "09:07")
    slots = day_slots(hours(min_notice_minutes=60), MONDAY, 50, now=now)
    assert local_walls(slots)[0] == "10:15"  # 10:07 rounded up to the grid
    assert all(s.start >= now + timedelta(minutes=60) for s in slots)


def test_nothing_in_the_past_even_without_notice() -> None:
    now = ny(MONDAY, "12:00")
    assert local_walls(day_slots(hours(), MONDAY, 50, now=now))[0] == "12:00"


def test_horizon_is_inclusive_of_its_last_instant() -> None:
    now = ny(MONDAY, "12:00")
    limited = hours(horizon_days=2)
    slots = available_slots(limited, [], now, now + timedelta(days=7), 50, now)
    assert slots[-1].start == now + timedelta(days=2)
    assert {s.start.astimezone(NY).date() for s in slots} == {MONDAY + timedelta(days=i) for i in range(3)}


# ------------------------------------------------------------------------------------------- hours shapes


def test_several_ranges_a_day() -> None:
    split = hours(weekly=(WeeklyRule(1, hm("09:00"), hm("12:00")), WeeklyRule(1, hm("14:00"), hm("17:00"))))
    walls = local_walls(day_slots(split, MONDAY, 50))
    assert walls[:9] == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00"]
    assert "11:15" not in walls
    assert "12:00" not in walls
    assert walls[9] == "14:00"
    assert walls[-1] == "16:00"


def test_touching_ranges_merge() -> None:
    touching = hours(weekly=(WeeklyRule(1, hm("09:00"), hm("12:00")), WeeklyRule(1, hm("12:00"), hm("17:00"))))
    walls = local_walls(day_slots(touching, MONDAY, 50))
    assert "11:30" in walls  # 11:30-12:20 spans the seam
    assert walls == local_walls(day_slots(hours(), MONDAY, 50))


def test_range_until_midnight_joins_the_next_morning() -> None:
    late = hours(weekly=(WeeklyRule(5, hm("22:00"), hm("00:00")), WeeklyRule(6, hm("00:00"), hm("02:00"))))
    friday = date(2026, 5, 8)
    walls = local_walls(day_slots(late, friday, 60, step=30))
    assert walls == ["22:00", "22:30", "23:00", "23:30"]  # 23:30-00:30 crosses midnight
    saturday = local_walls(day_slots(late, friday + timedelta(days=1), 60, step=30))
    assert saturday == ["00:00", "00:30", "01:00"]


def test_day_off_exception() -> None:
    off = hours(exceptions=(DateException(MONDAY),))
    assert day_slots(off, MONDAY, 50) == []
    assert day_slots(off, MONDAY + timedelta(days=1), 50) != []


def test_exception_replaces_the_days_hours() -> None:
    short = hours(exceptions=(DateException(MONDAY, (rng("13:00", "14:00"),)),))
    assert local_walls(day_slots(short, MONDAY, 30)) == ["13:00", "13:15", "13:30"]


def test_exception_adds_hours_on_a_day_without_rules() -> None:
    weekdays = tuple(WeeklyRule(d, hm("09:00"), hm("17:00")) for d in range(1, 6))
    saturday = date(2026, 5, 9)
    assert day_slots(hours(weekly=weekdays), saturday, 50) == []
    extra = hours(weekly=weekdays, exceptions=(DateException(saturday, (rng("10:00", "12:00"),)),))
    assert local_walls(day_slots(extra, saturday, 50)) == ["10:00", "10:15", "10:30", "10:45", "11:00"]


# ------------------------------------------------------------------------------------------- DST


def first_slot_per_day(slots: list[Slot], zone: ZoneInfo) -> dict[date, Slot]:
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for s in slots:
        by_day[s.start.astimezone(zone).date()].append(s)
    return {d: min(v) for d, v in by_day.items()}


@pytest.mark.parametrize(
    ("zone_name", "before", "after", "utc_before", "utc_after"),
    [
        # New York springs forward on Sunday 2026-03-08: EST (UTC-5) -> EDT (UTC-4).
        ("America/New_York", date(2026, 3, 6), date(2026, 3, 9), 14, 13),
        # ... and falls back on Sunday 2026-11-01: EDT -> EST.
        ("America/New_York", date(2026, 10, 30), date(2026, 11, 2), 13, 14),
        # London springs forward on Sunday 2026-03-29: GMT -> BST (UTC+1).
        ("Europe/London", date(2026, 3, 27), date(2026, 3, 30), 9, 8),
        # ... and falls back on Sunday 2026-10-25: BST -> GMT.
        ("Europe/London", date(2026, 10, 23), date(2026, 10, 26), 8, 9),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_dst(
    zone_name: str, before: date, after: date, utc_before: int, utc_after: int
) -> None:
    zone = ZoneInfo(zone_name)
    office = hours(zone=zone_name)
    now = datetime(before.year, before.month, before.day, tzinfo=zone) - timedelta(days=3)
    start = datetime(before.year, before.month, before.day, tzinfo=zone)
    end = datetime(after.year, after.month, after.day, tzinfo=zone) + timedelta(days=1)
    slots = available_slots(office, [], start, end, 50, now)
    firsts = first_slot_per_day(slots, zone)
    assert sorted(firsts) == [before + timedelta(days=i) for i in range((after - before).days + 1)]
    assert firsts[before].start.hour == utc_before
    assert firsts[after].start.hour == utc_after
    for s in firsts.values():  # including the transition Sunday itself
        assert s.start.astimezone(zone).strftime("%H:%M") == "09:00"
    # The whole day's local grid is the same on both sides.
    walls_before = [
        s.start.astimezone(zone).strftime("%H:%M") for s in slots if s.start.astimezone(zone).date() == before
    ]
    walls_after = [
        s.start.astimezone(zone).strftime("%H:%M") for s in slots if s.start.astimezone(zone).date() == after
    ]
    assert walls_before == walls_after
    assert len(walls_before) == 29


def test_range_across_the_spring_forward_gap_is_its_real_length() -> None:
    night = hours(weekly=(WeeklyRule(7, hm("01:00"), hm("04:00")),))
    sunday = date(2026, 3, 8)
    slots = day_slots(night, sunday, 60, now=utc(2026, 3, 1))
    # 01:00 EST (06:00Z) to 04:00 EDT (08:00Z) is two real hours.
    assert [s.start for s in slots] == [
        utc(2026, 3, 8, 6),
        utc(2026, 3, 8, 6, 15),
        utc(2026, 3, 8, 6, 30),
        utc(2026, 3, 8, 6, 45),
        utc(2026, 3, 8, 7),
    ]
    assert local_walls(slots) == ["01:00", "01:15", "01:30", "01:45", "03:00"]


def test_range_inside_the_gap_is_empty() -> None:
    gap = hours(weekly=(WeeklyRule(7, hm("02:00"), hm("02:30")),))
    assert day_slots(gap, date(2026, 3, 8), 10, now=utc(2026, 3, 1)) == []
    assert day_slots(gap, date(2026, 3, 15), 10, now=utc(2026, 3, 1)) != []


def test_range_across_the_fall_back_overlap_is_its_real_length() -> None:
    night = hours(weekly=(WeeklyRule(7, hm("00:00"), hm("03:00")),))
    slots = day_slots(night, date(2026, 11, 1), 60, step=60, now=utc(2026, 10, 20))
    # 00:00 EDT (04:00Z) to 03:00 EST (08:00Z): four real hours, 01:00 offered twice.
    assert [s.start for s in slots] == [utc(2026, 11, 1, h) for h in (4, 5, 6, 7)]
    assert [s.start.astimezone(NY).strftime("%H:%M %Z") for s in slots] == [
        "00:00 EDT",
        "01:00 EDT",
        "01:00 EST",
        "02:00 EST",
    ]


def test_working_intervals_on_fall_back_day_in_london() -> None:
    office = hours(zone="Europe/London", weekly=(WeeklyRule(7, hm("00:30"), hm("02:30")),))
    day = date(2026, 10, 25)
    ivs = working_intervals(office, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    # 00:30 BST = 23:30Z the day before; 02:30 GMT = 02:30Z: three real hours.
    assert ivs == [Slot(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))]
    assert ivs[0].start.astimezone(LONDON).date() == day


# ------------------------------------------------------------------------------------------- check_bookable


def code_of(office: OfficeHours, start: datetime, minutes: int = 50, **kw: object) -> str | None:
    try:
        check_bookable(office, kw.pop("busy", []), start, minutes, kw.pop("now", EARLY), **kw)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        return exc.code
    return None


def test_bookable_time_passes_even_off_grid() -> None:
    assert code_of(hours(), ny(MONDAY, "09:00")) is None
    assert code_of(hours(), ny(MONDAY, "09:07")) is None


def test_check_bookable_codes() -> None:
    office = hours(buffer_minutes=10, max_sessions_per_day=2, min_notice_minutes=60, horizon_days=30)
    now = ny(MONDAY, "08:30")
    assert code_of(office, ny(MONDAY, "09:00"), 45 + 1, now=now) == "invalid_duration"
    assert code_of(office, ny(MONDAY, "10:00") + timedelta(seconds=30), now=now) == "invalid_start"
    assert code_of(office, ny(MONDAY, "09:15"), now=now) == "too_short_notice"
    assert code_of(office, ny(MONDAY, "09:30"), now=now) is None  # exactly the notice
    assert code_of(office, now + timedelta(days=30, minutes=15), now=now) == "beyond_booking_horizon"
    assert code_of(office, ny(MONDAY, "16:30"), now=now) == "outside_office_hours"  # ends 17:20
    assert code_of(office, ny(MONDAY, "07:00"), now=utc(2026, 5, 1)) == "outside_office_hours"
    two = [(ny(MONDAY, "12:00"), ny(MONDAY, "12:50")), (ny(MONDAY, "14:00"), ny(MONDAY, "14:50"))]
    assert code_of(office, ny(MONDAY, "10:00"), now=now, busy=two) == "daily_limit_reached"
    one = two[:1]
    assert code_of(office, ny(MONDAY, "10:00"), now=now, busy=one) is None
    assert code_of(office, ny(MONDAY, "13:00"), now=now, busy=one) is None  # 10 minutes after is enough
    assert code_of(office, ny(MONDAY, "12:55"), now=now, busy=one) == "buffer_conflict"
    assert code_of(office, ny(MONDAY, "11:05"), now=now, busy=one) == "buffer_conflict"
    assert code_of(office, ny(MONDAY, "11:00"), now=now, busy=one) is None


def test_overlap_is_left_to_the_database() -> None:
    busy = [(ny(MONDAY, "10:00"), ny(MONDAY, "10:50"))]
    assert code_of(hours(buffer_minutes=10), ny(MONDAY, "10:00"), busy=busy) is None
    assert code_of(hours(buffer_minutes=10), ny(MONDAY, "10:20"), busy=busy) is None


def test_horizon_can_be_waived_for_series() -> None:
    office = hours(horizon_days=30)
    far = ny(MONDAY, "10:00") + timedelta(days=70)
    assert code_of(office, far) == "beyond_booking_horizon"
    assert code_of(office, far, enforce_horizon=False) is None


def test_day_off_is_outside_office_hours() -> None:
    off = hours(exceptions=(DateException(MONDAY),))
    assert code_of(off, ny(MONDAY, "10:00")) == "outside_office_hours"


def test_every_offered_slot_is_bookable_and_every_refused_grid_time_has_a_reason() -> None:
    office = hours(
        weekly=(
            WeeklyRule(1, hm("09:00"), hm("12:00")),
            WeeklyRule(1, hm("13:00"), hm("18:00")),
            WeeklyRule(2, hm("08:00"), hm("11:00")),
        ),
        buffer_minutes=10,
        max_sessions_per_day=4,
        min_notice_minutes=120,
        horizon_days=8,
    )
    now = ny(MONDAY, "09:40")
    busy = [
        (ny(MONDAY, "14:00"), ny(MONDAY, "14:50")),
        (ny(MONDAY, "16:00"), ny(MONDAY, "16:25")),
        (ny(MONDAY + timedelta(days=1), "09:00"), ny(MONDAY + timedelta(days=1), "09:30")),
    ]
    start = ny(MONDAY, "00:00")
    offered = available_slots(office, busy, start, start + timedelta(days=10), 25, now)
    assert offered
    for s in offered:
        check_bookable(office, busy, s.start, 25, now)
    offered_starts = {s.start for s in offered}
    t = start
    refused = 0
    while t < start + timedelta(days=10):
        if t not in offered_starts:
            code = code_of(office, t, 25, now=now, busy=busy)
            overlaps = any(b0 < t + timedelta(minutes=25) and t < b1 for b0, b1 in busy)
            assert code is not None or overlaps, t
            refused += 1
        t += timedelta(minutes=15)
    assert refused > 0


# ------------------------------------------------------------------------------------------- messaging hours


def test_messaging_hours() -> None:
    office = OfficeHours(
        timezone="Europe/London",
        weekly=(),
        messaging_hours=(WeeklyRule(1, hm("08:00"), hm("20:00")),),
    )
    monday_bst = date(2026, 5, 4)
    assert in_messaging_hours(office, utc(2026, 5, 4, 7))  # 08:00 BST
    assert not in_messaging_hours(office, utc(2026, 5, 4, 6, 59))
    assert not in_messaging_hours(office, utc(2026, 5, 4, 19))  # 20:00 BST: the end is exclusive
    assert not in_messaging_hours(office, utc(2026, 5, 5, 10))  # Tuesday
    assert monday_bst.isoweekday() == 1
    assert in_messaging_hours(OfficeHours(timezone="Europe/London", weekly=()), utc(2026, 5, 5, 3))
