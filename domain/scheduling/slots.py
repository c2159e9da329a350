"""Free slots from office hours, and why a given time is not bookable.

Decisions (the API exposes them):

* **Grid.** Candidate starts lie every `step_minutes` (default 15, any multiple of 5 from 5 to 60) from the
  start of each office-hours range, so a range that opens at 9:10 offers 9:10, 9:25, ... Ranges that touch
  (9:00-12:00 and 12:00-17:00, or 22:00-24:00 and the next day's 00:00-02:00) are merged first, so a session may
  span the seam. The grid is only how slots are *offered*: `check_bookable` accepts any whole-minute start that
  fits the rules.
* **Local time.** Weekly rules and exceptions are expanded day by day in the therapist's zone, each wall time
  mapped with `localtime.local_to_utc` (first instant the clock shows it; a skipped time becomes the jump), so a
  9:00 office hour is 9:00 local on both sides of a DST change.
* **Busy.** `busy` is the therapist's appointments that block time (`model.BLOCKING_STATUSES`; build it with
  `busy_intervals`). Pass every such appointment on the local days the window touches, not only inside the
  window: they also count toward the daily limit. When rescheduling, leave the appointment being moved out.
* **Buffer.** A slot must keep `buffer_minutes` clear before and after every busy interval (not around the edges
  of office hours).
* **Daily limit.** Busy intervals are counted per local day of their start, in the therapist's zone.
* **Notice and horizon.** A slot starts at or after `now + min_notice_minutes` and at or before
  `now + horizon_days` (exact instants, not calendar days).
* **Window.** A slot is returned when its start is in `[window_start, window_end)`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.scheduling.localtime import ensure_utc, load_zone, local_date, local_to_utc
from domain.scheduling.model import (
    DURATION_STEP_MINUTES,
    Appointment,
    OfficeHours,
    TimeRange,
    WeeklyRule,
    validate_duration,
)
from domain.shared.errors import ValidationFailed

DEFAULT_STEP_MINUTES = 15
MIN_STEP_MINUTES = 5
MAX_STEP_MINUTES = 60
_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)


class Slot(NamedTuple):
    """A half-open UTC interval `[start, end)`."""

    start: datetime
    end: datetime


def busy_intervals(appointments: Iterable[Appointment]) -> list[Slot]:
    """The intervals of the appointments that block time, sorted by start."""
    return sorted(Slot(a.start, a.end) for a in appointments if a.blocks_time)


def validate_step(step_minutes: int) -> None:
    if (
        isinstance(step_minutes, bool)
        or not isinstance(step_minutes, int)
        or not MIN_STEP_MINUTES <= step_minutes <= MAX_STEP_MINUTES
        or step_minutes % DURATION_STEP_MINUTES
    ):
        raise ValidationFailed(
            f"step_minutes is a multiple of 5 from {MIN_STEP_MINUTES} to {MAX_STEP_MINUTES}.",
            code="invalid_step",
            field="step_minutes",
        )


# ---------------------------------------------------------------------------------------------- expansion


def _weekly_by_day(rules: Iterable[WeeklyRule]) -> dict[int, list[TimeRange]]:
    by_day: dict[int, list[TimeRange]] = {}
    for rule in rules:
        by_day.setdefault(rule.weekday, []).append(rule.range)
    return by_day


def _expand(
    ranges_for: dict[int, list[TimeRange]],
    exceptions: dict[date, tuple[TimeRange, ...]],
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """Merged UTC intervals of the local ranges that overlap `[start, end)`."""
    # A range may end at 24:00, so the local day before `start` can still reach into it.
    day = local_date(start, zone) - _ONE_DAY
    last_day = local_date(end, zone)
    raw: list[Slot] = []
    while day <= last_day:
        ranges = exceptions[day] if day in exceptions else ranges_for.get(day.isoweekday(), ())
        for r in ranges:
            lo = local_to_utc(day, r.start, zone)
            hi = local_to_utc(day + _ONE_DAY, _MIDNIGHT, zone) if r.end == _MIDNIGHT else local_to_utc(day, r.end, zone)
            if hi > lo:  # a range wholly inside a spring-forward gap is empty
                raw.append(Slot(lo, hi))
        day += _ONE_DAY
    raw.sort()
    merged: list[Slot] = []
    for iv in raw:
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = Slot(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return [iv for iv in merged if iv.end > start and iv.start < end]


def working_intervals(office_hours: OfficeHours, start: datetime, end: datetime) -> list[Slot]:
    """The therapist's office hours (weekly rules replaced by exceptions on their dates) as merged UTC
    intervals overlapping `[start, end)`. Intervals are not clipped to the window."""
    zone = load_zone(office_hours.timezone)
    exceptions = {exc.date: exc.ranges for exc in office_hours.exceptions}
    return _expand(
        _weekly_by_day(office_hours.weekly),
        exceptions,
        zone,
        ensure_utc(start, field="start"),
        ensure_utc(end, field="end"),
    )


def in_messaging_hours(office_hours: OfficeHours, at: datetime) -> bool:
    """Whether `at` is inside the therapist's messaging hours. With no messaging hours set, always true
    (no after-hours reply). Office-hours exceptions do not apply to messaging hours."""
    if office_hours.messaging_hours is None:
        return True
    moment = ensure_utc(at, field="at")
    zone = load_zone(office_hours.timezone)
    intervals = _expand(_weekly_by_day(office_hours.messaging_hours), {}, zone, moment, moment + timedelta(seconds=1))
    return any(iv.start <= moment < iv.end for iv in intervals)


# ---------------------------------------------------------------------------------------------- busy time


class _Blocks:
    """Busy intervals widened by the buffer, merged, searchable by bisection."""

    def __init__(self, busy: Sequence[tuple[datetime, datetime]], buffer: timedelta) -> None:
        widened = sorted(
            (ensure_utc(s, field="busy") - buffer, ensure_utc(e, field="busy") + buffer) for s, e in busy if e > s
        )
        starts: list[datetime] = []
        ends: list[datetime] = []
        for s, e in widened:
            if ends and s < ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        self._starts = starts
        self._ends = ends

    def hits(self, start: datetime, end: datetime) -> bool:
        i = bisect_left(self._starts, end) - 1  # the last block starting before `end`
        return i >= 0 and self._ends[i] > start


def _daily_counts(busy: Sequence[tuple[datetime, datetime]], zone: ZoneInfo) -> Counter[date]:
    return Counter(local_date(s, zone) for s, e in busy if e > s)


# ---------------------------------------------------------------------------------------------- slots


def available_slots(
    office_hours: OfficeHours,
    busy: Sequence[tuple[datetime, datetime]],
    window_start: datetime,
    window_end: datetime,
    duration_minutes: int,
    now: datetime,
    step_minutes: int = DEFAULT_STEP_MINUTES,
) -> list[Slot]:
    """Free `duration_minutes` slots starting in `[window_start, window_end)`, in UTC, sorted by start.

    Raises `ValidationFailed`: `invalid_duration`, `invalid_step`, `invalid_window`, `invalid_datetime`,
    `invalid_timezone`.
    """
    validate_duration(duration_minutes)
    validate_step(step_minutes)
    ws = ensure_utc(window_start, field="start")
    we = ensure_utc(window_end, field="end")
    now = ensure_utc(now, field="now")
    if we < ws:
        raise ValidationFailed("The window ends before it starts.", code="invalid_window", field="end")
    zone = load_zone(office_hours.timezone)
    earliest = max(ws, now + timedelta(minutes=office_hours.min_notice_minutes))
    latest = min(we, now + timedelta(days=office_hours.horizon_days) + timedelta(microseconds=1))  # exclusive
    if earliest >= latest:
        return []
    length = timedelta(minutes=duration_minutes)
    step = timedelta(minutes=step_minutes)
    blocks = _Blocks(busy, timedelta(minutes=office_hours.buffer_minutes))
    limit = office_hours.max_sessions_per_day
    counts = _daily_counts(busy, zone) if limit is not None else Counter[date]()
    slots: list[Slot] = []
    for iv in working_intervals(office_hours, earliest, latest + length):
        t = iv.start
        if t < earliest:
            t += step * math.ceil((earliest - t) / step)
        while t < latest and t + length <= iv.end:
            if (limit is None or counts[local_date(t, zone)] < limit) and not blocks.hits(t, t + length):
                slots.append(Slot(t, t + length))
            t += step
    return slots


def check_bookable(
    office_hours: OfficeHours,
    busy: Sequence[tuple[datetime, datetime]],
    start: datetime,
    duration_minutes: int,
    now: datetime,
    *,
    enforce_horizon: bool = True,
) -> None:
    """Raise `ValidationFailed` saying why `[start, start + duration)` is not offered, else return.

    Codes, checked in this order: `invalid_duration`, `invalid_datetime`, `invalid_start` (not a whole minute),
    `too_short_notice`, `beyond_booking_horizon` (skipped with `enforce_horizon=False`, e.g. for the later
    occurrences of a recurring series), `outside_office_hours`, `daily_limit_reached`, `buffer_conflict` (too close
    to another session). An actual overlap with a busy interval is *not* reported here: the database refuses it
    (`slot_taken`).
    """
    validate_duration(duration_minutes)
    start = ensure_utc(start, field="start")
    now = ensure_utc(now, field="now")
    if start.second or start.microsecond:
        raise ValidationFailed("A session starts on a whole minute.", code="invalid_start", field="start")
    end = start + timedelta(minutes=duration_minutes)
    if start < now + timedelta(minutes=office_hours.min_notice_minutes):
        raise ValidationFailed(
            f"Sessions must be booked at least {office_hours.min_notice_minutes} minutes ahead.",
            code="too_short_notice",
            field="start",
        )
    if enforce_horizon and start > now + timedelta(days=office_hours.horizon_days):
        raise ValidationFailed(
            f"Sessions can be booked at most {office_hours.horizon_days} days ahead.",
            code="beyond_booking_horizon",
            field="start",
        )
    if not any(iv.start <= start and end <= iv.end for iv in working_intervals(office_hours, start, end)):
        raise ValidationFailed(
            "That time is outside the therapist's office hours.", code="outside_office_hours", field="start"
        )
    zone = load_zone(office_hours.timezone)
    limit = office_hours.max_sessions_per_day
    if limit is not None and _daily_counts(busy, zone)[local_date(start, zone)] >= limit:
        raise ValidationFailed(
            "The therapist has no more sessions available that day.", code="daily_limit_reached", field="start"
        )
    buffer = timedelta(minutes=office_hours.buffer_minutes)
    for b_start, b_end in busy:
        b_start, b_end = ensure_utc(b_start, field="busy"), ensure_utc(b_end, field="busy")
        overlaps = b_start < end and start < b_end
        if not overlaps and b_start - buffer < end and start < b_end + buffer:
            raise ValidationFailed(
                f"Sessions need {office_hours.buffer_minutes} minutes between them.",
                code="buffer_conflict",
                field="start",
            )
