from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling.model import Modality
from domain.scheduling.reminders import first_name, format_local, reminder_due_times, reminder_message
from domain.shared.errors import ValidationFailed
from tests.unit.scheduling.factories import utc

LONG_AGO = utc(2026, 1, 1)


def due(start: datetime, zone: str, booked_at: datetime = LONG_AGO, **kw: object) -> list[datetime]:
    return reminder_due_times(start, booked_at=booked_at, timezone=zone, **kw)  # type: ignore[arg-type]


def test_default_reminders_a_day_and_an_hour_before() -> None:
    start = utc(2026, 5, 4, 13)  # 09:00 EDT
    assert due(start, "America/New_York") == [utc(2026, 5, 3, 13), utc(2026, 5, 4, 12)]


@pytest.mark.parametrize(
    ("start", "zone", "day_before", "real_hours"),
    [
        # Sunday 2026-03-08 09:00 EDT; Saturday 09:00 was EST: 23 real hours earlier.
        (utc(2026, 3, 8, 13), "America/New_York", utc(2026, 3, 7, 14), 23),
        # Sunday 2026-11-01 09:00 EST; Saturday 09:00 was EDT: 25 real hours earlier.
        (utc(2026, 11, 1, 14), "America/New_York", utc(2026, 10, 31, 13), 25),
        # Sunday 2026-03-29 10:00 BST; Saturday 10:00 was GMT.
        (utc(2026, 3, 29, 9), "Europe/London", utc(2026, 3, 28, 10), 23),
        # Sunday 2026-10-25 10:00 GMT; Saturday 10:00 was BST.
        (utc(2026, 10, 25, 10), "Europe/London", utc(2026, 10, 24, 9), 25),
    ],
)
def test_day_before_reminder_keeps_local_time_across_dst(
    start: datetime, zone: str, day_before: datetime, real_hours: int
) -> None:
    times = due(start, zone)
    assert times == [day_before, start - timedelta(hours=1)]
    assert start - times[0] == timedelta(hours=real_hours)
    z = ZoneInfo(zone)
    assert times[0].astimezone(z).strftime("%H:%M") == start.astimezone(z).strftime("%H:%M")


def test_reminders_follow_the_recipients_zone() -> None:
    # Monday 2026-03-09 09:00 EDT = 13:00 GMT in London, where clocks have not changed yet.
    start = utc(2026, 3, 9, 13)
    assert due(start, "America/New_York")[0] == utc(2026, 3, 8, 13)  # 23 h
    assert due(start, "Europe/London")[0] == utc(2026, 3, 8, 13)  # 24 h, also Sunday 13:00 local
    assert due(utc(2026, 3, 8, 13), "Europe/London")[0] == utc(2026, 3, 7, 13)
    assert due(utc(2026, 3, 8, 13), "America/New_York")[0] == utc(2026, 3, 7, 14)


def test_reminders_already_past_at_booking_are_skipped() -> None:
    start = utc(2026, 5, 4, 13)
    assert due(start, "UTC", booked_at=start - timedelta(hours=3)) == [utc(2026, 5, 4, 12)]
    assert due(start, "UTC", booked_at=start - timedelta(hours=1)) == []
    assert due(start, "UTC", booked_at=start - timedelta(minutes=59)) == []
    assert due(start, "UTC", booked_at=start - timedelta(hours=1, seconds=1)) == [utc(2026, 5, 4, 12)]


def test_custom_offsets_mixed_days_and_hours() -> None:
    start = utc(2026, 3, 9, 13)  # Monday 09:00 EDT
    times = due(start, "America/New_York", offsets=(timedelta(hours=25), timedelta(minutes=15), timedelta(minutes=15)))
    # One local day back (Sunday 09:00 EDT = 13:00Z), then one more real hour.
    assert times == [utc(2026, 3, 8, 12), utc(2026, 3, 9, 12, 45)]


@pytest.mark.parametrize(
    "offsets",
    [(timedelta(0),), (timedelta(hours=-1),), (timedelta(days=31),), tuple(timedelta(hours=h) for h in range(1, 7))],
)
def test_bad_offsets(offsets: tuple[timedelta, ...]) -> None:
    with pytest.raises(ValidationFailed) as err:
        due(utc(2026, 5, 4, 13), "UTC", offsets=offsets)
    assert err.value.code == "invalid_reminder_offsets"


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Anna Kowalski", "Anna"),
        ("Dr. Jane Smith", "Jane"),
        ("dr jane smith", "jane"),
        ("Smith, Jane", "Jane"),
        ("  Mx.  Sam   Lee ", "Sam"),
        ("Prof. Dr. Ilse Bauer", "Ilse"),
        ("Cher", "Cher"),
        ("Dr.", ""),
        ("", ""),
    ],
)
def test_first_name(display: str, expected: str) -> None:
    assert first_name(display) == expected


APPT = uuid.UUID("11111111-2222-3333-4444-555555555555")


def test_message_to_the_therapist_names_the_client_by_first_name_only() -> None:
    msg = reminder_message(
        appointment_id=APPT,
        start=utc(2026, 3, 9, 13),
        duration_minutes=50,
        modality=Modality.VIDEO,
        recipient_timezone="America/New_York",
        other_party_name="Anna Kowalski",
        base_url="https://hearth.example.org/",
    )
    for text in (msg.body, msg.sms):
        assert "Anna" in text
        assert "Kowalski" not in text
        assert "Monday 9 March 2026 at 09:00 EDT" in text
        assert "50-minute video session" in text
        assert "https://hearth.example.org/appointments/11111111-2222-3333-4444-555555555555" in text
    assert "Kowalski" not in msg.subject
    assert "Anna" not in msg.subject


def test_message_to_the_client_in_their_own_zone() -> None:
    msg = reminder_message(
        appointment_id=APPT,
        start=utc(2026, 3, 9, 13),
        duration_minutes=20,
        modality=Modality.PHONE,
        recipient_timezone="Europe/London",
        other_party_name="Dr. Jane Smith",
        base_url="https://hearth.example.org",
    )
    assert "with Jane" in msg.body
    assert "Smith" not in msg.body + msg.sms
    assert "Monday 9 March 2026 at 13:00 GMT" in msg.body
    assert "20-minute phone session (we will call you)" in msg.sms
    assert "EDT" not in msg.body


def test_message_has_no_clinical_words() -> None:
    msg = reminder_message(
        appointment_id=APPT,
        start=utc(2026, 7, 1, 16),
        duration_minutes=60,
        modality=Modality.CHAT,
        recipient_timezone="America/Los_Angeles",
        other_party_name="",
        base_url="https://hearth.example.org",
    )
    text = (msg.subject + msg.body + msg.sms).lower()
    for word in ("therap", "diagnos", "depress", "anxiety", "note", "phq", "gad", "treatment"):
        assert word not in text
    assert " with " not in msg.sms  # no name at all rather than a blank one
    assert "09:00 PDT" in msg.body


def test_bad_base_url() -> None:
    with pytest.raises(ValidationFailed) as err:
        reminder_message(
            appointment_id=APPT,
            start=utc(2026, 7, 1, 16),
            duration_minutes=60,
            modality=Modality.CHAT,
            recipient_timezone="UTC",
            other_party_name="Anna",
            base_url="javascript:alert(1)",
        )
    assert err.value.code == "invalid_base_url"


def test_format_local_fall_back_abbreviation() -> None:
    assert format_local(utc(2026, 11, 1, 5, 30), "America/New_York") == "Sunday 1 November 2026 at 01:30 EDT"
    assert format_local(utc(2026, 11, 1, 6, 30), "America/New_York") == "Sunday 1 November 2026 at 01:30 EST"
