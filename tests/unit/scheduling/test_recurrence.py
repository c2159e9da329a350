from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling.model import Appointment, AppointmentStatus, Modality
from domain.scheduling.recurrence import (
    MAX_OCCURRENCES,
    Frequency,
    RecurrenceRule,
    Series,
    cancel_this_and_following,
    edit_this_and_following,
    edit_this_occurrence,
    new_series,
    occurrence_count,
    occurrence_start,
    occurrences,
    rule_occurrences,
)
from domain.shared.errors import InvalidState, ValidationFailed
from tests.unit.scheduling.factories import CLIENT, PRACTICE, THERAPIST, appointment, utc

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WEEKLY = Frequency.WEEKLY
FORTNIGHTLY = Frequency.FORTNIGHTLY


def local(zone: ZoneInfo, y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=zone)


def make_series(
    first: datetime,
    rule: RecurrenceRule,
    zone: str = "America/New_York",
    minutes: int = 50,
) -> Series:
    return new_series(
        id=uuid.uuid4(),
        therapist_id=THERAPIST,
        client_id=CLIENT,
        practice_id=PRACTICE,
        first_start=first,
        timezone=zone,
        duration_minutes=minutes,
        modality=Modality.VIDEO,
        rule=rule,
        created_at=utc(2026, 1, 2),
    )


def book_all(series: Series) -> list[Appointment]:
    return [
        appointment(o.start, o.duration_minutes, series_id=series.id, series_index=o.index) for o in occurrences(series)
    ]


def walls(items: list[datetime], zone: ZoneInfo) -> list[str]:
    return [i.astimezone(zone).strftime("%a %H:%M") for i in items]


# ------------------------------------------------------------------------------------------- generation


def test_weekly_series_keeps_local_time_across_spring_forward_in_new_york() -> None:
    series = make_series(local(NY, 2026, 2, 23, 9), RecurrenceRule(WEEKLY, count=4))
    starts = [o.start for o in occurrences(series)]
    assert starts == [utc(2026, 2, 23, 14), utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)]
    assert walls(starts, NY) == ["Mon 09:00"] * 4


def test_weekly_series_keeps_local_time_across_fall_back_in_new_york() -> None:
    series = make_series(local(NY, 2026, 10, 19, 9), RecurrenceRule(WEEKLY, count=4))
    starts = [o.start for o in occurrences(series)]
    assert starts == [utc(2026, 10, 19, 13), utc(2026, 10, 26, 13), utc(2026, 11, 2, 14), utc(2026, 11, 9, 14)]
    assert walls(starts, NY) == ["Mon 09:00"] * 4


def test_fortnightly_series_across_both_london_changes() -> None:
    spring = make_series(
        local(LONDON, 2026, 3, 16, 18), RecurrenceRule(FORTNIGHTLY, until=date(2026, 4, 13)), "Europe/London"
    )
    starts = [o.start for o in occurrences(spring)]
    assert starts == [utc(2026, 3, 16, 18), utc(2026, 3, 30, 17), utc(2026, 4, 13, 17)]
    autumn = make_series(local(LONDON, 2026, 10, 12, 18), RecurrenceRule(FORTNIGHTLY, count=3), "Europe/London")
    starts = [o.start for o in occurrences(autumn)]
    assert starts == [utc(2026, 10, 12, 17), utc(2026, 10, 26, 18), utc(2026, 11, 9, 18)]
    assert walls(starts, LONDON) == ["Mon 18:00"] * 3


def test_occurrences_carry_series_index_duration_and_modality() -> None:
    series = make_series(local(NY, 2026, 5, 4, 10), RecurrenceRule(WEEKLY, count=3), minutes=25)
    occ = occurrences(series)
    assert [o.index for o in occ] == [0, 1, 2]
    assert all(o.end - o.start == timedelta(minutes=25) and o.series_id == series.id for o in occ)
    assert all(o.modality is Modality.VIDEO for o in occ)
    assert series.start_date == date(2026, 5, 4)
    assert series.start_time.hour == 10


def test_until_is_inclusive() -> None:
    start = date(2026, 5, 4)
    assert rule_occurrences(RecurrenceRule(WEEKLY, until=date(2026, 5, 25)), start) == 4
    assert rule_occurrences(RecurrenceRule(WEEKLY, until=date(2026, 5, 24)), start) == 3
    assert rule_occurrences(RecurrenceRule(FORTNIGHTLY, until=date(2026, 5, 31)), start) == 2
    assert rule_occurrences(RecurrenceRule(WEEKLY, until=start), start) == 1


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (RecurrenceRule(WEEKLY), "invalid_recurrence"),
        (RecurrenceRule(WEEKLY, count=3, until=date(2026, 6, 1)), "invalid_recurrence"),
        (RecurrenceRule(WEEKLY, count=0), "invalid_recurrence"),
        (RecurrenceRule(WEEKLY, until=date(2026, 5, 3)), "invalid_recurrence"),
        (RecurrenceRule(WEEKLY, count=MAX_OCCURRENCES + 1), "series_too_long"),
        (RecurrenceRule(WEEKLY, until=date(2027, 5, 4)), "series_too_long"),  # 53 Mondays
        (RecurrenceRule(FORTNIGHTLY, until=date(2028, 5, 1)), "series_too_long"),
    ],
)
def test_bad_rules(rule: RecurrenceRule, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rule_occurrences(rule, date(2026, 5, 4))
    assert err.value.code == code


def test_longest_series_is_52() -> None:
    assert rule_occurrences(RecurrenceRule(WEEKLY, until=date(2027, 4, 26)), date(2026, 5, 4)) == 52
    series = make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=52))
    occ = occurrences(series)
    assert len(occ) == 52
    assert {o.start.astimezone(NY).strftime("%a %H:%M") for o in occ} == {"Mon 09:00"}


def test_new_series_validates() -> None:
    with pytest.raises(ValidationFailed) as err:
        make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=3), minutes=70)
    assert err.value.code == "invalid_duration"
    with pytest.raises(ValidationFailed) as err:
        make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=3), zone="Nowhere/Land")
    assert err.value.code == "invalid_timezone"


# ------------------------------------------------------------------------------------------- "this occurrence"


def test_edit_this_occurrence_moves_only_that_one() -> None:
    series = make_series(local(NY, 2026, 3, 2, 9), RecurrenceRule(WEEKLY, count=4))
    appts = book_all(series)
    now = utc(2026, 2, 20)
    new_start = local(NY, 2026, 3, 11, 15)  # the third one, to Wednesday 15:00
    change = edit_this_occurrence(series, appts[2], new_start=new_start, now=now, duration_minutes=30)
    assert change.cancel == (appts[2].id,)
    assert len(change.create) == 1
    moved = change.create[0]
    assert (moved.series_id, moved.index) == (series.id, 2)
    assert moved.start == utc(2026, 3, 11, 19)
    assert moved.end == utc(2026, 3, 11, 19, 30)
    assert moved.modality is Modality.VIDEO
    assert change.updated_series is None and change.new_series is None
    # The series' rule is untouched: the other occurrences stay where they were.
    assert occurrence_start(series, 3) == appts[3].start


def test_edit_this_occurrence_refusals() -> None:
    series = make_series(local(NY, 2026, 3, 2, 9), RecurrenceRule(WEEKLY, count=4))
    appts = book_all(series)
    now = utc(2026, 2, 20)
    appts[1].transition(AppointmentStatus.CANCELLED)
    with pytest.raises(InvalidState):
        edit_this_occurrence(series, appts[1], new_start=utc(2026, 3, 20, 15), now=now)
    with pytest.raises(ValidationFailed) as err:
        edit_this_occurrence(series, appts[0], new_start=utc(2026, 3, 20, 15), now=utc(2026, 3, 2, 15))
    assert err.value.code == "occurrence_started"
    with pytest.raises(ValidationFailed) as err:
        edit_this_occurrence(series, appts[2], new_start=utc(2026, 2, 19, 15), now=now)
    assert err.value.code == "too_short_notice"
    stranger = appointment(utc(2026, 3, 5, 15))
    with pytest.raises(ValidationFailed) as err:
        edit_this_occurrence(series, stranger, new_start=utc(2026, 3, 20, 15), now=now)
    assert err.value.code == "not_in_series"


# ------------------------------------------------------------------------------------------- "this and following"


def test_edit_this_and_following_splits_the_series() -> None:
    # Six Mondays at 09:00 from 2026-02-16; from the fourth (2026-03-09, after the spring change) move to Tuesdays
    # 11:00.
    series = make_series(local(NY, 2026, 2, 16, 9), RecurrenceRule(WEEKLY, count=6))
    appts = book_all(series)
    now = utc(2026, 2, 10)
    appts[4].transition(AppointmentStatus.CANCELLED)  # the client had cancelled the fifth
    single = edit_this_occurrence(series, appts[5], new_start=local(NY, 2026, 3, 27, 16), now=now)
    moved_sixth = appointment(single.create[0].start, series_id=series.id, series_index=5)
    appts[5].transition(AppointmentStatus.CANCELLED)
    appts.append(moved_sixth)
    new_id = uuid.uuid4()
    change = edit_this_and_following(
        series, appts, appts[3], new_series_id=new_id, new_start=local(NY, 2026, 3, 10, 11), now=now
    )
    # Old series ends after three occurrences, its rule kept.
    assert change.updated_series is not None
    assert change.updated_series.ends_before_index == 3
    assert change.updated_series.rule == series.rule
    assert occurrence_count(change.updated_series) == 3
    assert change.updated_series.version == series.version + 1
    # Booked occurrences from the fourth on are cancelled, the individually moved one included.
    assert set(change.cancel) == {appts[3].id, moved_sixth.id}
    # The new series: same count as replaced, on Tuesdays 11:00 local.
    successor = change.new_series
    assert successor is not None
    assert successor.id == new_id
    assert successor.previous_series_id == series.id
    assert successor.rule == RecurrenceRule(WEEKLY, count=3)
    assert [o.series_id for o in change.create] == [new_id] * 3
    assert walls([o.start for o in change.create], NY) == ["Tue 11:00"] * 3
    assert [o.start for o in change.create] == [utc(2026, 3, 10, 15), utc(2026, 3, 17, 15), utc(2026, 3, 24, 15)]
    # The first three are untouched.
    assert [o.start for o in occurrences(change.updated_series)] == [a.start for a in appts[:3]]


def test_edit_this_and_following_keeps_the_until_date() -> None:
    series = make_series(local(NY, 2026, 10, 5, 9), RecurrenceRule(WEEKLY, until=date(2026, 11, 30)))
    appts = book_all(series)
    assert len(appts) == 9
    change = edit_this_and_following(
        series, appts, appts[4], new_series_id=uuid.uuid4(), new_start=local(NY, 2026, 11, 4, 8), now=utc(2026, 10, 1)
    )
    assert change.new_series is not None
    assert change.new_series.rule == RecurrenceRule(WEEKLY, until=date(2026, 11, 30))
    assert walls([o.start for o in change.create], NY) == ["Wed 08:00"] * 4  # Nov 4, 11, 18, 25
    assert change.create[0].start == utc(2026, 11, 4, 13)
    assert len(change.cancel) == 5


def test_edit_this_and_following_past_the_end_date_is_refused() -> None:
    series = make_series(local(NY, 2026, 10, 5, 9), RecurrenceRule(WEEKLY, until=date(2026, 10, 26)))
    appts = book_all(series)
    with pytest.raises(ValidationFailed) as err:
        edit_this_and_following(
            series,
            appts,
            appts[3],
            new_series_id=uuid.uuid4(),
            new_start=local(NY, 2026, 10, 28, 9),
            now=utc(2026, 10, 1),
        )
    assert err.value.code == "invalid_recurrence"


def test_edit_this_and_following_with_a_new_rule_and_length() -> None:
    series = make_series(local(LONDON, 2026, 10, 5, 17), RecurrenceRule(WEEKLY, count=8), "Europe/London")
    appts = book_all(series)
    change = edit_this_and_following(
        series,
        appts,
        appts[2],
        new_series_id=uuid.uuid4(),
        new_start=local(LONDON, 2026, 10, 19, 17, 30),
        now=utc(2026, 10, 1),
        duration_minutes=25,
        modality=Modality.PHONE,
        rule=RecurrenceRule(FORTNIGHTLY, count=4),
    )
    assert [o.start for o in change.create] == [
        utc(2026, 10, 19, 16, 30),  # BST
        utc(2026, 11, 2, 17, 30),  # GMT
        utc(2026, 11, 16, 17, 30),
        utc(2026, 11, 30, 17, 30),
    ]
    assert all(o.duration_minutes == 25 and o.modality is Modality.PHONE for o in change.create)
    assert len(change.cancel) == 6


def test_edit_from_the_first_occurrence_replaces_the_whole_series() -> None:
    series = make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=3))
    appts = book_all(series)
    change = edit_this_and_following(
        series, appts, appts[0], new_series_id=uuid.uuid4(), new_start=local(NY, 2026, 5, 5, 9), now=utc(2026, 5, 1)
    )
    assert change.updated_series is not None
    assert occurrence_count(change.updated_series) == 0
    assert occurrences(change.updated_series) == []
    assert set(change.cancel) == {a.id for a in appts}
    assert len(change.create) == 3


def test_splitting_twice() -> None:
    series = make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=6))
    appts = book_all(series)
    now = utc(2026, 5, 1)
    first = edit_this_and_following(
        series, appts, appts[3], new_series_id=uuid.uuid4(), new_start=local(NY, 2026, 5, 26, 9), now=now
    )
    assert first.updated_series is not None
    cut = first.updated_series
    for a in appts[3:]:
        a.transition(AppointmentStatus.CANCELLED)
    second = edit_this_and_following(
        cut, appts, appts[1], new_series_id=uuid.uuid4(), new_start=local(NY, 2026, 5, 13, 9), now=now
    )
    assert second.updated_series is not None
    assert second.updated_series.ends_before_index == 1
    assert second.new_series is not None
    assert second.new_series.rule.count == 2  # only what remained of the cut series
    assert set(second.cancel) == {appts[1].id, appts[2].id}


def test_cancel_this_and_following() -> None:
    series = make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=5))
    appts = book_all(series)
    change = cancel_this_and_following(series, appts, appts[2], now=utc(2026, 5, 1))
    assert set(change.cancel) == {a.id for a in appts[2:]}
    assert change.create == ()
    assert change.new_series is None
    assert change.updated_series is not None
    assert occurrence_count(change.updated_series) == 2


def test_cancelling_one_occurrence_leaves_the_others() -> None:
    series = make_series(local(NY, 2026, 5, 4, 9), RecurrenceRule(WEEKLY, count=4))
    appts = book_all(series)
    appts[1].transition(AppointmentStatus.CANCELLED)
    assert [a.status for a in appts] == [
        AppointmentStatus.BOOKED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.BOOKED,
        AppointmentStatus.BOOKED,
    ]
    assert occurrence_count(series) == 4
    change = cancel_this_and_following(series, appts, appts[3], now=utc(2026, 5, 1))
    assert change.cancel == (appts[3].id,)
