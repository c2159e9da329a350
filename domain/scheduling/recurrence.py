"""Weekly and fortnightly series of appointments, and how edits split them.

A series stores its first local date and wall time in its own zone (the therapist's at creation); occurrence
`k` is on `start_date + k * 7 (or 14) days` at that wall time, mapped to UTC with `localtime.local_to_utc`, so a
9:00 series stays at 9:00 local across DST changes (its UTC time moves by an hour). A series is bounded: a
`count` of 1 to 52, or an inclusive local `until` date that yields at most 52 occurrences.

Edits are pure: they return a `SeriesChange` (appointments to cancel, occurrences to book, series records to
save) that the service applies in one transaction.

* "This occurrence": the appointment is replaced by one at the new time; it keeps its series and index, so a
  later "this and following" or "cancel the rest" from an earlier occurrence includes it.
* "This and following" from occurrence k: the old series is truncated (`ends_before_index = k`, its rule kept
  for the record) and a new series starts at the new time, linked by `previous_series_id`. Every still-booked
  appointment of the old series from index k on is cancelled (occurrences moved one by one included) and every
  occurrence of the new series is created. Occurrences already cancelled are not carried over: the new series
  is complete and the caller may cancel some of it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from domain.scheduling.localtime import ensure_utc, load_zone, local_to_utc
from domain.scheduling.model import Appointment, AppointmentStatus, Modality, validate_duration
from domain.shared.errors import InvalidState, ValidationFailed

MAX_OCCURRENCES = 52


class Frequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"

    @property
    def days(self) -> int:
        return 7 if self is Frequency.WEEKLY else 14


@dataclass(frozen=True, slots=True)
class RecurrenceRule:
    """Exactly one of `count` (1..52) or `until` (a local date, inclusive)."""

    frequency: Frequency
    count: int | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class Series:
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    practice_id: uuid.UUID
    timezone: str
    start_date: date  # local date of occurrence 0
    start_time: time  # local wall time of every occurrence
    duration_minutes: int
    modality: Modality
    rule: RecurrenceRule
    created_at: datetime
    ends_before_index: int | None = None  # set when "this and following" or "cancel the rest" cut the series
    previous_series_id: uuid.UUID | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An appointment to book for a series."""

    series_id: uuid.UUID
    index: int
    start: datetime
    end: datetime
    duration_minutes: int
    modality: Modality


@dataclass(frozen=True, slots=True)
class SeriesChange:
    cancel: tuple[uuid.UUID, ...] = ()
    create: tuple[Occurrence, ...] = ()
    updated_series: Series | None = None  # the edited series, truncated
    new_series: Series | None = None


def _bad_rule(detail: str, code: str = "invalid_recurrence", field: str = "recurrence") -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field)


def rule_occurrences(rule: RecurrenceRule, start_date: date) -> int:
    """How many occurrences `rule` yields from `start_date`; raises `invalid_recurrence` / `series_too_long`."""
    if rule.count is not None and rule.until is None:
        if isinstance(rule.count, bool) or not isinstance(rule.count, int) or rule.count < 1:
            raise _bad_rule("count is at least 1.")
        n = rule.count
    elif rule.until is not None and rule.count is None:
        if rule.until < start_date:
            raise _bad_rule("The end date is before the first session.")
        n = (rule.until - start_date).days // rule.frequency.days + 1
    else:
        raise _bad_rule("Give either a count or an end date.")
    if n > MAX_OCCURRENCES:
        raise _bad_rule(f"A series has at most {MAX_OCCURRENCES} sessions.", code="series_too_long")
    return n


def new_series(
    *,
    id: uuid.UUID,
    therapist_id: uuid.UUID,
    client_id: uuid.UUID,
    practice_id: uuid.UUID,
    first_start: datetime,
    timezone: str,
    duration_minutes: int,
    modality: Modality,
    rule: RecurrenceRule,
    created_at: datetime,
    previous_series_id: uuid.UUID | None = None,
) -> Series:
    """A series whose local date and time are those of `first_start` in `timezone`. (Should `first_start` be the
    second pass of a repeated fall-back hour, occurrence 0 is its first pass, by the rule of `localtime`.)"""
    validate_duration(duration_minutes)
    start = ensure_utc(first_start, field="start")
    if start.second or start.microsecond:
        raise ValidationFailed("A session starts on a whole minute.", code="invalid_start", field="start")
    local = start.astimezone(load_zone(timezone))
    rule_occurrences(rule, local.date())
    return Series(
        id=id,
        therapist_id=therapist_id,
        client_id=client_id,
        practice_id=practice_id,
        timezone=timezone,
        start_date=local.date(),
        start_time=local.time().replace(tzinfo=None, fold=0),
        duration_minutes=duration_minutes,
        modality=modality,
        rule=rule,
        created_at=ensure_utc(created_at, field="created_at"),
        previous_series_id=previous_series_id,
    )


def occurrence_count(series: Series) -> int:
    n = rule_occurrences(series.rule, series.start_date)
    return n if series.ends_before_index is None else min(n, series.ends_before_index)


def occurrence_start(series: Series, index: int) -> datetime:
    """The UTC start of occurrence `index` (by the rule, whether or not that occurrence was moved)."""
    day = series.start_date + timedelta(days=index * series.rule.frequency.days)
    return local_to_utc(day, series.start_time, load_zone(series.timezone))


def occurrences(series: Series) -> list[Occurrence]:
    length = timedelta(minutes=series.duration_minutes)
    result = []
    for k in range(occurrence_count(series)):
        start = occurrence_start(series, k)
        result.append(Occurrence(series.id, k, start, start + length, series.duration_minutes, series.modality))
    return result


def _check_target(series: Series, target: Appointment, now: datetime) -> int:
    if target.series_id != series.id or target.series_index is None:
        raise ValidationFailed("That appointment is not part of this series.", code="not_in_series")
    if target.status is not AppointmentStatus.BOOKED:
        raise InvalidState(f"An appointment that is {target.status.value} cannot be changed.")
    if target.start <= now:
        raise ValidationFailed("That session has already started.", code="occurrence_started")
    return target.series_index


def _check_new_start(new_start: datetime, now: datetime) -> datetime:
    start = ensure_utc(new_start, field="start")
    if start.second or start.microsecond:
        raise ValidationFailed("A session starts on a whole minute.", code="invalid_start", field="start")
    if start <= now:
        raise ValidationFailed("The new time is in the past.", code="too_short_notice", field="start")
    return start


def _booked_from(series: Series, appointments: Sequence[Appointment], index: int) -> tuple[uuid.UUID, ...]:
    return tuple(
        a.id
        for a in sorted(appointments, key=lambda a: (a.series_index or 0, a.start))
        if a.series_id == series.id
        and a.series_index is not None
        and a.series_index >= index
        and a.status is AppointmentStatus.BOOKED
    )


def _truncated(series: Series, index: int) -> Series:
    current = series.ends_before_index
    return replace(
        series,
        ends_before_index=index if current is None else min(current, index),
        version=series.version + 1,
    )


def edit_this_occurrence(
    series: Series,
    target: Appointment,
    *,
    new_start: datetime,
    now: datetime,
    duration_minutes: int | None = None,
    modality: Modality | None = None,
) -> SeriesChange:
    """Move one occurrence: cancel `target`, book one at `new_start` with the same series and index."""
    now = ensure_utc(now, field="now")
    index = _check_target(series, target, now)
    start = _check_new_start(new_start, now)
    minutes = target.duration_minutes if duration_minutes is None else duration_minutes
    validate_duration(minutes)
    moved = Occurrence(
        series_id=series.id,
        index=index,
        start=start,
        end=start + timedelta(minutes=minutes),
        duration_minutes=minutes,
        modality=target.modality if modality is None else modality,
    )
    return SeriesChange(cancel=(target.id,), create=(moved,))


def edit_this_and_following(
    series: Series,
    appointments: Sequence[Appointment],
    target: Appointment,
    *,
    new_series_id: uuid.UUID,
    new_start: datetime,
    now: datetime,
    duration_minutes: int | None = None,
    modality: Modality | None = None,
    rule: RecurrenceRule | None = None,
) -> SeriesChange:
    """Split the series at `target`: the old one ends before it, a new one starts at `new_start`.

    `appointments` are the series' appointments (others are ignored). Without a new `rule` the new series keeps
    the frequency and ends where the old one would have: the same `until` date when the old series had one and
    was never cut, else the number of occurrences it replaces.
    """
    now = ensure_utc(now, field="now")
    index = _check_target(series, target, now)
    start = _check_new_start(new_start, now)
    if rule is None:
        remaining = occurrence_count(series) - index
        if series.rule.until is not None and series.ends_before_index is None:
            rule = RecurrenceRule(series.rule.frequency, until=series.rule.until)
        else:
            rule = RecurrenceRule(series.rule.frequency, count=max(remaining, 1))
    successor = new_series(
        id=new_series_id,
        therapist_id=series.therapist_id,
        client_id=series.client_id,
        practice_id=series.practice_id,
        first_start=start,
        timezone=series.timezone,
        duration_minutes=series.duration_minutes if duration_minutes is None else duration_minutes,
        modality=series.modality if modality is None else modality,
        rule=rule,
        created_at=now,
        previous_series_id=series.id,
    )
    return SeriesChange(
        cancel=_booked_from(series, appointments, index),
        create=tuple(occurrences(successor)),
        updated_series=_truncated(series, index),
        new_series=successor,
    )


def cancel_this_and_following(
    series: Series, appointments: Sequence[Appointment], target: Appointment, *, now: datetime
) -> SeriesChange:
    """End the series before `target`: cancel it and every later booked occurrence."""
    now = ensure_utc(now, field="now")
    index = _check_target(series, target, now)
    return SeriesChange(cancel=_booked_from(series, appointments, index), updated_series=_truncated(series, index))
