"""Builders shared by the scheduling unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from domain.scheduling.model import (
    Appointment,
    AppointmentStatus,
    DateException,
    Modality,
    OfficeHours,
    TimeRange,
    WeeklyRule,
    new_appointment,
)

THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
CLIENT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
PRACTICE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def rng(start: str, end: str) -> TimeRange:
    return TimeRange(hm(start), hm(end))


def every_day(start: str, end: str) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(day, hm(start), hm(end)) for day in range(1, 8))


def hours(
    zone: str = "America/New_York",
    weekly: tuple[WeeklyRule, ...] | None = None,
    exceptions: tuple[DateException, ...] = (),
    **settings: int | None,
) -> OfficeHours:
    return OfficeHours(
        timezone=zone,
        weekly=every_day("09:00", "17:00") if weekly is None else weekly,
        exceptions=exceptions,
        **settings,  # type: ignore[arg-type]
    )


def appointment(
    start: datetime,
    minutes: int = 50,
    *,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    series_id: uuid.UUID | None = None,
    series_index: int | None = None,
    modality: Modality = Modality.VIDEO,
    created_at: datetime | None = None,
) -> Appointment:
    appt = new_appointment(
        id=uuid.uuid4(),
        therapist_id=THERAPIST,
        client_id=CLIENT,
        practice_id=PRACTICE,
        start=start,
        duration_minutes=minutes,
        modality=modality,
        created_at=created_at or start - timedelta(days=7),
        series_id=series_id,
        series_index=series_index,
    )
    appt.status = status
    return appt
