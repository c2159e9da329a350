"""Appointments, their state machine, therapist profiles and office hours, with their validation rules."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from domain.scheduling.localtime import ensure_utc, load_zone, minutes_of_day
from domain.shared.errors import InvalidState, ValidationFailed, quoted
from domain.shared.iso import check_currency, is_location

MIN_DURATION_MINUTES = 10
MAX_DURATION_MINUTES = 60
DURATION_STEP_MINUTES = 5


class Modality(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    PHONE = "phone"
    CHAT = "chat"


class CancelledBy(StrEnum):
    """Which side cancelled. A practice admin acting for the therapist counts as the therapist; `practice`: the
    practice's own doing, not a person's decision about the session (a switch of therapist). Only a client's
    cancellation can be late."""

    CLIENT = "client"
    THERAPIST = "therapist"
    PRACTICE = "practice"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    LATE_CANCELLED = "late_cancelled"
    CHECKED_IN = "checked_in"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


_S = AppointmentStatus

# Legal moves. `checked_in` means the client has done the safety check-in; `in_progress` means the session has
# actually started with both parties (so a no-show can no longer happen from it). A live session is always
# preceded by the check-in, so `booked -> in_progress` is not a move. Every status not listed as a key is
# terminal. A status never moves to itself.
TRANSITIONS: Mapping[AppointmentStatus, frozenset[AppointmentStatus]] = MappingProxyType(
    {
        _S.BOOKED: frozenset({_S.CANCELLED, _S.LATE_CANCELLED, _S.CHECKED_IN, _S.NO_SHOW}),
        _S.CHECKED_IN: frozenset({_S.IN_PROGRESS, _S.NO_SHOW, _S.CANCELLED, _S.LATE_CANCELLED}),
        _S.IN_PROGRESS: frozenset({_S.COMPLETED}),
        _S.CANCELLED: frozenset(),
        _S.LATE_CANCELLED: frozenset(),
        _S.COMPLETED: frozenset(),
        _S.NO_SHOW: frozenset(),
    }
)

TERMINAL_STATUSES: frozenset[AppointmentStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# Statuses whose appointment occupies the therapist's time: they block slots, count toward the daily limit and
# are the rows the database's no-overlap exclusion constraint covers. Cancellations free their time. A no-show
# frees it too: it is only marked once the session should have started, and the rest of that time is the
# therapist's again. A completed session keeps its time (it happened).
BLOCKING_STATUSES: frozenset[AppointmentStatus] = frozenset({_S.BOOKED, _S.CHECKED_IN, _S.IN_PROGRESS, _S.COMPLETED})


def can_transition(current: AppointmentStatus, target: AppointmentStatus) -> bool:
    return target in TRANSITIONS[current]


def ensure_transition(current: AppointmentStatus, target: AppointmentStatus) -> None:
    """Raise `InvalidState` (code `invalid_state`) unless `current -> target` is a legal move."""
    if not can_transition(current, target):
        raise InvalidState(f"An appointment that is {current.value} cannot become {target.value}.")


def validate_duration(minutes: int, *, field: str = "duration_minutes") -> None:
    """10 to 60 minutes in steps of 5, else `ValidationFailed(code="invalid_duration")`."""
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES
        or minutes % DURATION_STEP_MINUTES
    ):
        raise ValidationFailed(
            f"A session lasts {MIN_DURATION_MINUTES} to {MAX_DURATION_MINUTES} minutes, "
            f"in steps of {DURATION_STEP_MINUTES}.",
            code="invalid_duration",
            field=field,
        )


@dataclass(slots=True)
class Appointment:
    """One booked session. `start`/`end` are UTC; `end - start == duration_minutes`."""

    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    practice_id: uuid.UUID
    start: datetime
    end: datetime
    duration_minutes: int
    modality: Modality
    status: AppointmentStatus
    created_at: datetime
    series_id: uuid.UUID | None = None
    series_index: int | None = None  # position in its series (0-based); kept when one occurrence is moved
    cancel_reason: str | None = None
    cancelled_by: CancelledBy | None = None
    cancelled_at: datetime | None = None
    policy_version: int | None = None  # the cancellation policy version the client accepted when booking
    version: int = 1

    @property
    def blocks_time(self) -> bool:
        return self.status in BLOCKING_STATUSES

    def transition(self, target: AppointmentStatus) -> None:
        ensure_transition(self.status, target)
        self.status = target
        self.version += 1

    def reschedule(self, new_start: datetime, duration_minutes: int | None = None) -> None:
        """Move a booked appointment. Whether the new time is free is the caller's (and the database's) job."""
        if self.status is not AppointmentStatus.BOOKED:
            raise InvalidState(f"An appointment that is {self.status.value} cannot be rescheduled.")
        minutes = self.duration_minutes if duration_minutes is None else duration_minutes
        validate_duration(minutes)
        start = ensure_utc(new_start, field="start")
        self.start = start
        self.end = start + timedelta(minutes=minutes)
        self.duration_minutes = minutes
        self.version += 1


def new_appointment(
    *,
    id: uuid.UUID,
    therapist_id: uuid.UUID,
    client_id: uuid.UUID,
    practice_id: uuid.UUID,
    start: datetime,
    duration_minutes: int,
    modality: Modality,
    created_at: datetime,
    series_id: uuid.UUID | None = None,
    series_index: int | None = None,
    policy_version: int | None = None,
) -> Appointment:
    """A `booked` appointment with its end computed from the duration. Validates duration and instants."""
    validate_duration(duration_minutes)
    if therapist_id == client_id:
        raise ValidationFailed("A therapist cannot book a session with themselves.", code="invalid_participants")
    utc_start = ensure_utc(start, field="start")
    return Appointment(
        id=id,
        therapist_id=therapist_id,
        client_id=client_id,
        practice_id=practice_id,
        start=utc_start,
        end=utc_start + timedelta(minutes=duration_minutes),
        duration_minutes=duration_minutes,
        modality=modality,
        status=AppointmentStatus.BOOKED,
        created_at=ensure_utc(created_at, field="created_at"),
        series_id=series_id,
        series_index=series_index,
        policy_version=policy_version,
    )


# ---------------------------------------------------------------------------------------------- office hours


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A local wall-clock range within one day. `end` 00:00 means midnight at the end of the day."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """A recurring local range on an ISO weekday (Monday = 1 ... Sunday = 7)."""

    weekday: int
    start: time
    end: time

    @property
    def range(self) -> TimeRange:
        return TimeRange(self.start, self.end)


@dataclass(frozen=True, slots=True)
class DateException:
    """Replaces the weekly hours of one local date. No ranges = a day off; ranges = that day's only hours."""

    date: date
    ranges: tuple[TimeRange, ...] = ()


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When a therapist can be booked, in their own zone. `messaging_hours` (optional, same weekly shape, no
    exceptions) is when messages are answered; `None` means no after-hours reply."""

    timezone: str
    weekly: tuple[WeeklyRule, ...]
    exceptions: tuple[DateException, ...] = ()
    buffer_minutes: int = 0
    max_sessions_per_day: int | None = None
    min_notice_minutes: int = 0
    horizon_days: int = 60
    messaging_hours: tuple[WeeklyRule, ...] | None = None


MAX_BUFFER_MINUTES = 120
MAX_SESSIONS_PER_DAY = 48
MAX_NOTICE_MINUTES = 30 * 24 * 60
MAX_HORIZON_DAYS = 366
MAX_RANGES_PER_DAY = 12
MAX_EXCEPTIONS = 400


def _bad_hours(detail: str, field: str, code: str = "invalid_office_hours") -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field)


def validate_ranges(ranges: Iterable[TimeRange], *, field: str, code: str = "invalid_office_hours") -> None:
    """Whole-minute ranges with end after start (end 00:00 = 24:00) that do not overlap (touching is fine);
    otherwise `ValidationFailed` with `code` (the caller's own: office hours, a waitlist entry...)."""
    spans: list[tuple[int, int]] = []
    for r in ranges:
        for wall in (r.start, r.end):
            if wall.second or wall.microsecond or wall.tzinfo is not None:
                raise _bad_hours("Times are whole minutes of local wall-clock time.", field, code)
        lo, hi = minutes_of_day(r.start), minutes_of_day(r.end, end=True)
        if hi <= lo:
            raise _bad_hours(f"The range {r.start:%H:%M}-{r.end:%H:%M} ends before it starts.", field, code)
        spans.append((lo, hi))
    if len(spans) > MAX_RANGES_PER_DAY:
        raise _bad_hours(f"At most {MAX_RANGES_PER_DAY} ranges a day.", field, code)
    spans.sort()
    for (_, prev_end), (next_start, _) in pairwise(spans):
        if next_start < prev_end:
            raise _bad_hours("Ranges on the same day overlap.", field, code)


def validate_weekly(rules: Iterable[WeeklyRule], *, field: str) -> None:
    by_day: dict[int, list[TimeRange]] = {}
    for rule in rules:
        if isinstance(rule.weekday, bool) or rule.weekday not in range(1, 8):
            raise _bad_hours("weekday is ISO: Monday = 1 ... Sunday = 7.", field)
        by_day.setdefault(rule.weekday, []).append(rule.range)
    for ranges in by_day.values():
        validate_ranges(ranges, field=field)


def _check_bound(value: int | None, lo: int, hi: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad_hours(f"{field} must be between {lo} and {hi}.", field)


def validate_office_hours(hours: OfficeHours) -> None:
    """Raise `ValidationFailed` (`invalid_timezone` or `invalid_office_hours`, with the field) if malformed."""
    load_zone(hours.timezone)
    validate_weekly(hours.weekly, field="weekly")
    if len(hours.exceptions) > MAX_EXCEPTIONS:
        raise _bad_hours(f"At most {MAX_EXCEPTIONS} exceptions.", "exceptions")
    seen: set[date] = set()
    for exc in hours.exceptions:
        if exc.date in seen:
            raise _bad_hours(f"Two exceptions for {exc.date.isoformat()}.", "exceptions")
        seen.add(exc.date)
        validate_ranges(exc.ranges, field="exceptions")
    if hours.messaging_hours is not None:
        validate_weekly(hours.messaging_hours, field="messaging_hours")
    _check_bound(hours.buffer_minutes, 0, MAX_BUFFER_MINUTES, "buffer_minutes")
    if hours.max_sessions_per_day is not None:
        _check_bound(hours.max_sessions_per_day, 1, MAX_SESSIONS_PER_DAY, "max_sessions_per_day")
    _check_bound(hours.min_notice_minutes, 0, MAX_NOTICE_MINUTES, "min_notice_minutes")
    _check_bound(hours.horizon_days, 1, MAX_HORIZON_DAYS, "horizon_days")


# ---------------------------------------------------------------------------------------------- profile


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor units (cents) and an ISO 4217 code."""

    amount_minor: int
    currency: str


# The window of a therapist who never set one (a profile never saved included).
DEFAULT_CANCELLATION_WINDOW_HOURS = 24


@dataclass(slots=True)
class TherapistProfile:
    therapist_id: uuid.UUID
    display_name: str
    timezone: str
    bio: str = ""
    licenses: tuple[str, ...] = ()  # "US-NY", "GB", ...
    specialties: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # BCP 47 tags such as "en", "es"
    modalities: tuple[Modality, ...] = (Modality.VIDEO,)
    session_lengths: tuple[int, ...] = (50,)
    rates: Mapping[int, Money] = dataclass_field(default_factory=dict)  # session length (minutes) -> price
    accepting_new_clients: bool = True
    caseload_capacity: int = 25
    cancellation_window_hours: int = DEFAULT_CANCELLATION_WINDOW_HOURS
    version: int = 1
    # What matching asks about a practice beyond the above (all optional; see domain.matching.candidates).
    gender: str | None = None  # "woman", "man", "non_binary"
    faith_based: bool = False
    lgbtq_affirming: bool = False
    insurance_payers: tuple[str, ...] = ()


_LICENSE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_CANCELLATION_WINDOW_HOURS = 168
MAX_CASELOAD = 1000
THERAPIST_GENDERS = frozenset({"woman", "man", "non_binary"})
MAX_PAYERS = 30


def _bad_profile(detail: str, field: str, code: str = "invalid_profile") -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field)


def validate_profile(profile: TherapistProfile) -> None:
    """Raise `ValidationFailed` with a stable code and the field: `invalid_profile`, `invalid_timezone`,
    `invalid_duration`, `invalid_license`, `invalid_rate`."""
    name = profile.display_name.strip()
    if not name or len(name) > 100:
        raise _bad_profile("display_name is 1 to 100 characters.", "display_name")
    if len(profile.bio) > 5000:
        raise _bad_profile("bio is at most 5000 characters.", "bio")
    load_zone(profile.timezone)
    for lic in profile.licenses:
        if not _LICENSE.match(lic) or not is_location(lic):
            raise _bad_profile(
                f"Licence {quoted(lic)} is not an ISO 3166 code such as 'US-NY' or 'GB'.", "licenses", "invalid_license"
            )
    if len(set(profile.licenses)) != len(profile.licenses):
        raise _bad_profile("Duplicate licence.", "licenses", "invalid_license")
    for lang in profile.languages:
        if not _LANGUAGE.match(lang):
            raise _bad_profile(f"Language {quoted(lang)} is not a tag such as 'en'.", "languages")
    if any(not s.strip() or len(s) > 100 for s in profile.specialties) or len(profile.specialties) > 50:
        raise _bad_profile("Up to 50 specialties of 1 to 100 characters.", "specialties")
    if not profile.modalities or len(set(profile.modalities)) != len(profile.modalities):
        raise _bad_profile("Offer at least one modality, each once.", "modalities")
    if not profile.session_lengths or len(set(profile.session_lengths)) != len(profile.session_lengths):
        raise _bad_profile("Offer at least one session length, each once.", "session_lengths")
    for minutes in profile.session_lengths:
        validate_duration(minutes, field="session_lengths")
    for minutes, price in profile.rates.items():
        if minutes not in profile.session_lengths:
            raise _bad_profile(f"A rate for {minutes} minutes, a length not offered.", "rates", "invalid_rate")
        if isinstance(price.amount_minor, bool) or not isinstance(price.amount_minor, int) or price.amount_minor < 0:
            raise _bad_profile("Rates are non-negative integers in minor units.", "rates", "invalid_rate")
        check_currency(price.currency, field="rates")
    if len({price.currency for price in profile.rates.values()}) > 1:
        raise _bad_profile("All rates use one currency.", "rates", "invalid_rate")
    if not 0 <= profile.caseload_capacity <= MAX_CASELOAD:
        raise _bad_profile(f"caseload_capacity is 0 to {MAX_CASELOAD}.", "caseload_capacity")
    if not 0 <= profile.cancellation_window_hours <= MAX_CANCELLATION_WINDOW_HOURS:
        raise _bad_profile(
            f"cancellation_window_hours is 0 to {MAX_CANCELLATION_WINDOW_HOURS}.", "cancellation_window_hours"
        )
    if profile.gender is not None and profile.gender not in THERAPIST_GENDERS:
        raise _bad_profile("gender is woman, man, non_binary or null.", "gender")
    payers = profile.insurance_payers
    if (
        len(payers) > MAX_PAYERS
        or any(not p.strip() or p != p.strip() or len(p) > 100 for p in payers)
        or len({p.casefold() for p in payers}) != len(payers)
    ):
        raise _bad_profile(f"Up to {MAX_PAYERS} insurers of 1 to 100 characters, each once.", "insurance_payers")


def check_offered(profile: TherapistProfile, duration_minutes: int, modality: Modality) -> None:
    """Raise `invalid_duration`, `duration_not_offered` or `modality_not_offered` for a booking request."""
    validate_duration(duration_minutes)
    if duration_minutes not in profile.session_lengths:
        raise ValidationFailed(
            f"This therapist does not offer {duration_minutes}-minute sessions.",
            code="duration_not_offered",
            field="duration_minutes",
        )
    if modality not in profile.modalities:
        raise ValidationFailed(
            f"This therapist does not offer {modality.value} sessions.", code="modality_not_offered", field="modality"
        )
