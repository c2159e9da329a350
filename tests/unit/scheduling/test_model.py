from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling.model import (
    BLOCKING_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    AppointmentStatus,
    DateException,
    Modality,
    Money,
    OfficeHours,
    TherapistProfile,
    TimeRange,
    WeeklyRule,
    can_transition,
    check_offered,
    ensure_transition,
    new_appointment,
    validate_duration,
    validate_office_hours,
    validate_profile,
)
from domain.shared.errors import InvalidState, ValidationFailed
from tests.unit.scheduling.factories import CLIENT, PRACTICE, THERAPIST, appointment, hm, hours, rng, utc

S = AppointmentStatus

LEGAL = [
    (S.BOOKED, S.CANCELLED),
    (S.BOOKED, S.LATE_CANCELLED),
    (S.BOOKED, S.CHECKED_IN),
    (S.BOOKED, S.NO_SHOW),
    (S.CHECKED_IN, S.IN_PROGRESS),
    (S.CHECKED_IN, S.NO_SHOW),
    (S.CHECKED_IN, S.CANCELLED),
    (S.CHECKED_IN, S.LATE_CANCELLED),
    (S.IN_PROGRESS, S.COMPLETED),
]
ILLEGAL = [pair for pair in itertools.product(S, S) if pair not in LEGAL]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transition_moves_and_bumps_version(current: S, target: S) -> None:
    appt = appointment(utc(2026, 5, 4, 14), status=current)
    appt.transition(target)
    assert appt.status is target
    assert appt.version == 2


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_transition_is_invalid_state(current: S, target: S) -> None:
    appt = appointment(utc(2026, 5, 4, 14), status=current)
    with pytest.raises(InvalidState) as err:
        appt.transition(target)
    assert err.value.code == "invalid_state"
    assert appt.status is current
    assert appt.version == 1


def test_the_table_is_exactly_the_documented_moves() -> None:
    table = {(a, b) for a, nxt in TRANSITIONS.items() for b in nxt}
    assert table == set(LEGAL)
    assert len(ILLEGAL) == 49 - len(LEGAL)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.COMPLETED, S.BOOKED), (S.CANCELLED, S.IN_PROGRESS), (S.BOOKED, S.IN_PROGRESS), (S.NO_SHOW, S.COMPLETED)],
)
def test_named_illegal_moves(current: S, target: S) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidState):
        ensure_transition(current, target)


def test_terminal_statuses_have_no_way_out() -> None:
    assert {S.CANCELLED, S.LATE_CANCELLED, S.COMPLETED, S.NO_SHOW} == TERMINAL_STATUSES
    for status in TERMINAL_STATUSES:
        assert not any(can_transition(status, other) for other in S)


def test_blocking_statuses() -> None:
    assert {S.BOOKED, S.CHECKED_IN, S.IN_PROGRESS, S.COMPLETED} == BLOCKING_STATUSES
    assert appointment(utc(2026, 5, 4, 14), status=S.COMPLETED).blocks_time
    for freed in (S.CANCELLED, S.LATE_CANCELLED, S.NO_SHOW):
        assert not appointment(utc(2026, 5, 4, 14), status=freed).blocks_time


@pytest.mark.parametrize("minutes", [10, 15, 25, 50, 60])
def test_valid_durations(minutes: int) -> None:
    validate_duration(minutes)


@pytest.mark.parametrize("minutes", [0, 5, 9, 12, 61, 65, 90, -10])
def test_invalid_durations(minutes: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_duration(minutes)
    assert err.value.code == "invalid_duration"
    assert err.value.field == "duration_minutes"


def test_bool_is_not_a_duration() -> None:
    with pytest.raises(ValidationFailed):
        validate_duration(True)


def test_new_appointment_computes_end_in_utc() -> None:
    start = datetime(2026, 5, 4, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    appt = new_appointment(
        id=uuid.uuid4(),
        therapist_id=THERAPIST,
        client_id=CLIENT,
        practice_id=PRACTICE,
        start=start,
        duration_minutes=25,
        modality=Modality.PHONE,
        created_at=utc(2026, 5, 1),
    )
    assert appt.start == utc(2026, 5, 4, 14, 0)
    assert appt.start.utcoffset() == timedelta(0)
    assert appt.end == utc(2026, 5, 4, 14, 25)
    assert appt.status is S.BOOKED


def test_new_appointment_rejects_naive_start_and_self_booking() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_appointment(
            id=uuid.uuid4(),
            therapist_id=THERAPIST,
            client_id=CLIENT,
            practice_id=PRACTICE,
            start=datetime(2026, 5, 4, 10),
            duration_minutes=25,
            modality=Modality.PHONE,
            created_at=utc(2026, 5, 1),
        )
    assert err.value.code == "invalid_datetime"
    with pytest.raises(ValidationFailed) as err:
        new_appointment(
            id=uuid.uuid4(),
            therapist_id=THERAPIST,
            client_id=THERAPIST,
            practice_id=PRACTICE,
            start=utc(2026, 5, 4, 10),
            duration_minutes=25,
            modality=Modality.PHONE,
            created_at=utc(2026, 5, 1),
        )
    assert err.value.code == "invalid_participants"


def test_reschedule_only_when_booked() -> None:
    appt = appointment(utc(2026, 5, 4, 14))
    appt.reschedule(utc(2026, 5, 5, 15), 30)
    assert (appt.start, appt.end, appt.duration_minutes, appt.version) == (
        utc(2026, 5, 5, 15),
        utc(2026, 5, 5, 15, 30),
        30,
        2,
    )
    appt.transition(S.CHECKED_IN)
    with pytest.raises(InvalidState):
        appt.reschedule(utc(2026, 5, 6, 15))


# ------------------------------------------------------------------------------------------- office hours


def test_good_office_hours_pass() -> None:
    validate_office_hours(
        hours(
            weekly=(
                WeeklyRule(1, hm("09:00"), hm("12:00")),
                WeeklyRule(1, hm("12:00"), hm("17:00")),  # touching is not overlapping
                WeeklyRule(5, hm("20:00"), hm("00:00")),  # until midnight
            ),
            exceptions=(DateException(date(2026, 12, 24)), DateException(date(2026, 12, 27), (rng("10:00", "12:00"),))),
            buffer_minutes=10,
            max_sessions_per_day=8,
            min_notice_minutes=60,
            horizon_days=60,
        )
    )


@pytest.mark.parametrize(
    ("office_hours", "field"),
    [
        (hours(weekly=(WeeklyRule(1, hm("17:00"), hm("09:00")),)), "weekly"),
        (hours(weekly=(WeeklyRule(1, hm("09:00"), hm("09:00")),)), "weekly"),
        (hours(weekly=(WeeklyRule(1, hm("09:00"), hm("12:00")), WeeklyRule(1, hm("11:00"), hm("13:00")))), "weekly"),
        (hours(weekly=(WeeklyRule(0, hm("09:00"), hm("12:00")),)), "weekly"),
        (hours(weekly=(WeeklyRule(8, hm("09:00"), hm("12:00")),)), "weekly"),
        (hours(weekly=(WeeklyRule(2, time(9, 0, 30), hm("12:00")),)), "weekly"),
        (hours(exceptions=(DateException(date(2026, 1, 1), (rng("12:00", "10:00"),)),)), "exceptions"),
        (hours(exceptions=(DateException(date(2026, 1, 1)), DateException(date(2026, 1, 1)))), "exceptions"),
        (hours(buffer_minutes=-5), "buffer_minutes"),
        (hours(max_sessions_per_day=0), "max_sessions_per_day"),
        (hours(min_notice_minutes=-1), "min_notice_minutes"),
        (hours(horizon_days=0), "horizon_days"),
    ],
)
def test_bad_office_hours(office_hours: OfficeHours, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_office_hours(office_hours)
    assert err.value.code == "invalid_office_hours"
    assert err.value.field == field


def test_overlapping_messaging_hours_are_refused() -> None:
    bad = OfficeHours(
        timezone="Europe/London",
        weekly=(),
        messaging_hours=(WeeklyRule(3, hm("08:00"), hm("10:00")), WeeklyRule(3, hm("09:00"), hm("11:00"))),
    )
    with pytest.raises(ValidationFailed) as err:
        validate_office_hours(bad)
    assert err.value.field == "messaging_hours"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", " Europe/London", "../etc/passwd"])
def test_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_office_hours(hours(zone=zone))
    assert err.value.code == "invalid_timezone"


# ------------------------------------------------------------------------------------------- profile


def profile(**changes: object) -> TherapistProfile:
    base = TherapistProfile(
        therapist_id=THERAPIST,
        display_name="Dr. Jane Smith",
        timezone="America/New_York",
        licenses=("US-NY", "US-NJ"),
        languages=("en", "es"),
        modalities=(Modality.VIDEO, Modality.PHONE),
        session_lengths=(20, 50),
        rates={20: Money(6000, "USD"), 50: Money(15000, "USD")},
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_good_profile_passes() -> None:
    validate_profile(profile())


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"display_name": "  "}, "invalid_profile", "display_name"),
        ({"timezone": "Nowhere/Town"}, "invalid_timezone", "timezone"),
        ({"licenses": ("new york",)}, "invalid_license", "licenses"),
        ({"licenses": ("US-ZZ",)}, "invalid_license", "licenses"),
        ({"licenses": ("ZZ",)}, "invalid_license", "licenses"),
        ({"session_lengths": (20, 45, 70)}, "invalid_duration", "session_lengths"),
        ({"session_lengths": ()}, "invalid_profile", "session_lengths"),
        ({"modalities": ()}, "invalid_profile", "modalities"),
        ({"rates": {30: Money(100, "USD")}}, "invalid_rate", "rates"),
        ({"rates": {20: Money(-1, "USD")}}, "invalid_rate", "rates"),
        ({"rates": {20: Money(100, "usd")}}, "invalid_currency", "rates"),
        ({"rates": {20: Money(100, "QQQ")}}, "invalid_currency", "rates"),
        ({"rates": {20: Money(100, "USD"), 50: Money(100, "EUR")}}, "invalid_rate", "rates"),
        ({"caseload_capacity": -1}, "invalid_profile", "caseload_capacity"),
        ({"cancellation_window_hours": 200}, "invalid_profile", "cancellation_window_hours"),
    ],
)
def test_bad_profile(changes: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_profile(profile(**changes))
    assert (err.value.code, err.value.field) == (code, field)


def test_check_offered() -> None:
    p = profile()
    check_offered(p, 20, Modality.VIDEO)
    with pytest.raises(ValidationFailed) as err:
        check_offered(p, 30, Modality.VIDEO)
    assert err.value.code == "duration_not_offered"
    with pytest.raises(ValidationFailed) as err:
        check_offered(p, 50, Modality.CHAT)
    assert err.value.code == "modality_not_offered"
    with pytest.raises(ValidationFailed) as err:
        check_offered(p, 7, Modality.VIDEO)
    assert err.value.code == "invalid_duration"


def test_time_range_is_a_value() -> None:
    assert TimeRange(hm("09:00"), hm("10:00")) == rng("09:00", "10:00")
