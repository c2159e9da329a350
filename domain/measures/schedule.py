"""Questionnaire assignments and when they are due.

A therapist assigns an instrument to a client with one of three frequencies:

* `once`: due from `starts_at` until the client completes it (a completion at or after `starts_at`).
* `every_n_days` (1-90): the first is due at `starts_at` (a baseline); each later one `interval_days` x 24 h
  after the last completion. Plain UTC arithmetic: DST never shifts a due time.
* `before_every_session`: due `lead_hours` (default 48) before each session start, for a session that has no
  completion since the previous session (or since `starts_at` for the first). It never opens before the previous
  session began, so two sessions on consecutive days never make the client answer twice in a row. After a
  session starts it is too late for that session: the next one counts.

An assignment is stopped by `end_assignment`; from `ended_at` on nothing is due.

The functions take the latest completion of this assignment (`last_completed_at`) and, for
`before_every_session`, the client's session starts with the therapist, cancelled ones left out, including at
least the most recent past one (it tells which completions count for the next session).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeGuard

from domain.measures.instruments import Instrument
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import ValidationFailed

MIN_INTERVAL_DAYS = 1
MAX_INTERVAL_DAYS = 90
DEFAULT_LEAD_HOURS = 48
MIN_LEAD_HOURS = 1
MAX_LEAD_HOURS = 168


class Frequency(StrEnum):
    ONCE = "once"
    BEFORE_EVERY_SESSION = "before_every_session"
    EVERY_N_DAYS = "every_n_days"


@dataclass(frozen=True, slots=True)
class Assignment:
    id: uuid.UUID
    practice_id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    instrument_code: str
    frequency: Frequency
    starts_at: datetime
    created_at: datetime
    interval_days: int | None = None  # every_n_days only
    lead_hours: int | None = None  # before_every_session only
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class DueMeasure:
    """An occurrence of an assignment: due from `due_at`; `session_start` is the session it prepares for."""

    assignment_id: uuid.UUID
    instrument_code: str
    due_at: datetime
    session_start: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        return self.due_at <= ensure_utc(now, field="now")


def parse_frequency(value: str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise ValidationFailed(
            f"Frequency must be one of {', '.join(f.value for f in Frequency)}.",
            code="invalid_frequency",
            field="frequency",
        ) from None


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def new_assignment(
    *,
    id: uuid.UUID,
    practice_id: uuid.UUID,
    client_id: uuid.UUID,
    therapist_id: uuid.UUID,
    instrument: Instrument,
    frequency: Frequency | str,
    created_at: datetime,
    starts_at: datetime | None = None,
    interval_days: int | None = None,
    lead_hours: int | None = None,
) -> Assignment:
    """A validated assignment. `starts_at` defaults to `created_at`; `lead_hours` to 48 for sessions.

    Codes: `invalid_frequency`, `invalid_interval` (every_n_days needs 1-90; other frequencies take none),
    `invalid_lead_time` (before_every_session takes 1-168; other frequencies take none), `invalid_datetime`,
    `invalid_participants` (a therapist assigning to themselves)."""
    kind = parse_frequency(frequency)
    if client_id == therapist_id:
        raise ValidationFailed("A therapist cannot assign a questionnaire to themselves.", code="invalid_participants")
    if kind is Frequency.EVERY_N_DAYS:
        if not _whole(interval_days) or not MIN_INTERVAL_DAYS <= interval_days <= MAX_INTERVAL_DAYS:
            raise ValidationFailed(
                f"Every N days takes N from {MIN_INTERVAL_DAYS} to {MAX_INTERVAL_DAYS}.",
                code="invalid_interval",
                field="interval_days",
            )
    elif interval_days is not None:
        raise ValidationFailed(
            "Only an every-N-days assignment has an interval.", code="invalid_interval", field="interval_days"
        )
    if kind is Frequency.BEFORE_EVERY_SESSION:
        lead = DEFAULT_LEAD_HOURS if lead_hours is None else lead_hours
        if not _whole(lead) or not MIN_LEAD_HOURS <= lead <= MAX_LEAD_HOURS:
            raise ValidationFailed(
                f"The lead time before a session is {MIN_LEAD_HOURS} to {MAX_LEAD_HOURS} hours.",
                code="invalid_lead_time",
                field="lead_hours",
            )
        lead_hours = lead
    elif lead_hours is not None:
        raise ValidationFailed(
            "Only a before-every-session assignment has a lead time.", code="invalid_lead_time", field="lead_hours"
        )
    created = ensure_utc(created_at, field="created_at")
    return Assignment(
        id=id,
        practice_id=practice_id,
        client_id=client_id,
        therapist_id=therapist_id,
        instrument_code=str(instrument.code),
        frequency=kind,
        starts_at=created if starts_at is None else ensure_utc(starts_at, field="starts_at"),
        created_at=created,
        interval_days=interval_days,
        lead_hours=lead_hours,
    )


def end_assignment(assignment: Assignment, *, at: datetime) -> Assignment:
    """The assignment stopped at `at`. Ending an ended assignment keeps its first end (idempotent)."""
    if assignment.ended_at is not None:
        return assignment
    return replace(assignment, ended_at=ensure_utc(at, field="ended_at"))


def next_due(
    assignment: Assignment,
    *,
    now: datetime,
    last_completed_at: datetime | None,
    session_starts: Iterable[datetime] = (),
) -> DueMeasure | None:
    """The assignment's pending occurrence: `due_at <= now` means due now (or overdue), a later `due_at` says
    when it will be. `None` when nothing more is pending (done once, ended, or no upcoming session)."""
    now = ensure_utc(now, field="now")
    last = None if last_completed_at is None else ensure_utc(last_completed_at, field="last_completed_at")
    if assignment.ended_at is not None and now >= assignment.ended_at:
        return None
    if last is not None and last < assignment.starts_at:
        last = None  # a completion from before the assignment started does not count for it
    due: DueMeasure | None
    if assignment.frequency is Frequency.ONCE:
        due = None if last is not None else _occurrence(assignment, assignment.starts_at)
    elif assignment.frequency is Frequency.EVERY_N_DAYS:
        interval = timedelta(days=assignment.interval_days or MIN_INTERVAL_DAYS)
        due = _occurrence(assignment, assignment.starts_at if last is None else last + interval)
    else:
        due = _before_session(assignment, now=now, last=last, session_starts=session_starts)
    if due is not None and assignment.ended_at is not None and due.due_at >= assignment.ended_at:
        return None
    return due


def due_now(
    assignment: Assignment,
    *,
    now: datetime,
    last_completed_at: datetime | None,
    session_starts: Iterable[datetime] = (),
) -> DueMeasure | None:
    """The occurrence the client should complete now, or `None` (see `next_due`)."""
    due = next_due(assignment, now=now, last_completed_at=last_completed_at, session_starts=session_starts)
    return due if due is not None and due.is_due(now) else None


def _occurrence(assignment: Assignment, due_at: datetime, session_start: datetime | None = None) -> DueMeasure:
    return DueMeasure(
        assignment_id=assignment.id,
        instrument_code=assignment.instrument_code,
        due_at=due_at,
        session_start=session_start,
    )


def _before_session(
    assignment: Assignment, *, now: datetime, last: datetime | None, session_starts: Iterable[datetime]
) -> DueMeasure | None:
    lead = timedelta(hours=assignment.lead_hours or DEFAULT_LEAD_HOURS)
    starts = sorted({ensure_utc(s, field="session_starts") for s in session_starts})
    previous: datetime | None = None
    for start in starts:
        if start <= now or start <= assignment.starts_at:
            # Already begun (too late to prepare for), or before the assignment: it only marks the previous one.
            previous = start
            continue
        counts_from = assignment.starts_at if previous is None else max(previous, assignment.starts_at)
        if last is not None and last >= counts_from:
            previous = start  # this session is covered; the next one needs a completion after it
            continue
        opens = max(start - lead, counts_from)
        return _occurrence(assignment, opens, session_start=start)
    return None
