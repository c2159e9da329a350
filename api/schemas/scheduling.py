"""Contract models for profiles, office hours, slots and appointments, and their mapping to the domain."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.billing import AmountMinor, Currency
from api.schemas.types import MAX_INT, IsoDate, RequestModel, Rfc3339
from domain.scheduling.model import (
    Appointment,
    DateException,
    Modality,
    Money,
    OfficeHours,
    TherapistProfile,
    TimeRange,
    WeeklyRule,
)

ModalityName = Literal["video", "audio", "phone", "chat"]
AppointmentStatusName = Literal[
    "booked", "cancelled", "late_cancelled", "checked_in", "in_progress", "completed", "no_show"
]
Minutes = Annotated[int, Field(ge=10, le=60, multiple_of=5)]
# Bodies are JSON: numbers must be numbers (no "50", no true), times must be RFC 3339 strings.
BodyMinutes = Annotated[int, Field(strict=True, ge=10, le=60, multiple_of=5)]
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["09:00"])]


Strict = RequestModel


# --- profile -----------------------------------------------------------------------------------------------


class Rate(Strict):
    duration_minutes: BodyMinutes
    amount_minor: int = Field(
        strict=True, ge=0, le=10_000_000, description="Price in the currency's minor units (cents, yen)"
    )
    currency: str = Field(
        pattern="^[A-Z]{3}$", examples=["USD"], description="An ISO 4217 code whose minor unit has 0 or 2 decimals"
    )


class ProfileIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "display_name": "Dana Reyes, LMHC",
                    "bio": "I help adults with anxiety and grief.",
                    "licenses": ["US-NY", "US-NJ"],
                    "specialties": ["anxiety", "grief"],
                    "languages": ["en", "es"],
                    "modalities": ["video", "audio", "chat"],
                    "session_lengths": [20, 50],
                    "rates": [{"duration_minutes": 50, "amount_minor": 12000, "currency": "USD"}],
                    "timezone": "America/New_York",
                    "accepting_new_clients": True,
                    "caseload_capacity": 25,
                    "cancellation_window_hours": 24,
                }
            ]
        },
    )

    display_name: str = Field(min_length=1, max_length=100)
    bio: str = Field(default="", max_length=5000)
    licenses: list[Annotated[str, Field(min_length=2, max_length=6)]] = Field(
        default_factory=list, max_length=60, description='ISO 3166 codes such as "US-NY" or "GB"'
    )
    specialties: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    languages: list[Annotated[str, Field(min_length=2, max_length=20)]] = Field(default_factory=list, max_length=20)
    modalities: list[ModalityName] = Field(min_length=1, max_length=4)
    session_lengths: list[BodyMinutes] = Field(min_length=1, max_length=11)
    rates: list[Rate] = Field(default_factory=list, max_length=11)
    timezone: str = Field(min_length=1, max_length=64)
    accepting_new_clients: bool = Field(default=True, strict=True)
    caseload_capacity: int = Field(strict=True, default=25, ge=0, le=1000)
    cancellation_window_hours: int = Field(strict=True, default=24, ge=0, le=168)
    gender: Literal["woman", "man", "non_binary"] | None = Field(
        default=None, description="Used by matching when a client states a preference"
    )
    faith_based: bool = Field(default=False, strict=True, description="Offers a faith-based approach")
    lgbtq_affirming: bool = Field(default=False, strict=True, description="LGBTQ+-affirming practice")
    insurance_payers: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30, description="Insurers the therapist is in network with"
    )

    def to_domain(self) -> TherapistProfile:
        return TherapistProfile(
            therapist_id=uuid.UUID(int=0),
            display_name=self.display_name,
            timezone=self.timezone,
            bio=self.bio,
            licenses=tuple(self.licenses),
            specialties=tuple(self.specialties),
            languages=tuple(self.languages),
            modalities=tuple(Modality(m) for m in self.modalities),
            session_lengths=tuple(self.session_lengths),
            rates={r.duration_minutes: Money(r.amount_minor, r.currency) for r in self.rates},
            accepting_new_clients=self.accepting_new_clients,
            caseload_capacity=self.caseload_capacity,
            cancellation_window_hours=self.cancellation_window_hours,
            gender=self.gender,
            faith_based=self.faith_based,
            lgbtq_affirming=self.lgbtq_affirming,
            insurance_payers=tuple(self.insurance_payers),
        )


class PublicProfile(BaseModel):
    """What anyone signed in may see of a therapist."""

    therapist_id: uuid.UUID
    display_name: str
    bio: str
    licenses: list[str]
    specialties: list[str]
    languages: list[str]
    modalities: list[ModalityName]
    session_lengths: list[int]
    rates: list[Rate]
    timezone: str
    accepting_new_clients: bool
    cancellation_window_hours: int = Field(description="Client cancellations closer to the start are late")
    gender: str | None = None
    faith_based: bool = False
    lgbtq_affirming: bool = False
    insurance_payers: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, p: TherapistProfile) -> PublicProfile:
        return cls(
            therapist_id=p.therapist_id,
            display_name=p.display_name,
            bio=p.bio,
            licenses=list(p.licenses),
            specialties=list(p.specialties),
            languages=list(p.languages),
            modalities=[m.value for m in p.modalities],
            session_lengths=list(p.session_lengths),
            rates=_rates(p),
            timezone=p.timezone,
            accepting_new_clients=p.accepting_new_clients,
            cancellation_window_hours=p.cancellation_window_hours,
            gender=p.gender,
            faith_based=p.faith_based,
            lgbtq_affirming=p.lgbtq_affirming,
            insurance_payers=list(p.insurance_payers),
        )


class ProfileOut(PublicProfile):
    """The therapist's own view, with the private settings."""

    caseload_capacity: int
    version: int

    @classmethod
    def of(cls, p: TherapistProfile) -> ProfileOut:
        return cls(
            **PublicProfile.of(p).model_dump(),
            caseload_capacity=p.caseload_capacity,
            version=p.version,
        )


class TherapistPage(BaseModel):
    items: list[PublicProfile]
    next_cursor: str | None


def _rates(p: TherapistProfile) -> list[Rate]:
    return [
        Rate(duration_minutes=m, amount_minor=r.amount_minor, currency=r.currency) for m, r in sorted(p.rates.items())
    ]


# --- office hours ------------------------------------------------------------------------------------------


class WeeklyRange(Strict):
    weekday: int = Field(strict=True, ge=1, le=7, description="ISO weekday, Monday = 1")
    start: LocalTime
    end: LocalTime


class LocalRange(Strict):
    start: LocalTime
    end: LocalTime


class ExceptionDay(Strict):
    date: IsoDate
    ranges: list[LocalRange] = Field(default_factory=list, max_length=12, description="Empty = a day off")


class OfficeHoursIO(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "America/New_York",
                    "weekly": [{"weekday": 1, "start": "09:00", "end": "17:00"}],
                    "exceptions": [{"date": "2026-12-24", "ranges": []}],
                    "buffer_minutes": 10,
                    "max_sessions_per_day": 8,
                    "min_notice_minutes": 60,
                    "horizon_days": 60,
                    "messaging_hours": [{"weekday": 1, "start": "08:00", "end": "18:00"}],
                }
            ]
        },
    )

    timezone: str = Field(min_length=1, max_length=64)
    weekly: list[WeeklyRange] = Field(max_length=84)
    exceptions: list[ExceptionDay] = Field(default_factory=list, max_length=400)
    buffer_minutes: int = Field(strict=True, default=0, ge=0, le=120)
    max_sessions_per_day: int | None = Field(strict=True, default=None, ge=1, le=48)
    min_notice_minutes: int = Field(strict=True, default=0, ge=0, le=43200)
    horizon_days: int = Field(strict=True, default=60, ge=1, le=366)
    messaging_hours: list[WeeklyRange] | None = Field(
        default=None, max_length=84, description="When messages are answered; null = no after-hours reply"
    )

    def to_domain(self) -> OfficeHours:
        return OfficeHours(
            timezone=self.timezone,
            weekly=tuple(WeeklyRule(r.weekday, _t(r.start), _t(r.end)) for r in self.weekly),
            exceptions=tuple(
                DateException(e.date, tuple(TimeRange(_t(r.start), _t(r.end)) for r in e.ranges))
                for e in self.exceptions
            ),
            buffer_minutes=self.buffer_minutes,
            max_sessions_per_day=self.max_sessions_per_day,
            min_notice_minutes=self.min_notice_minutes,
            horizon_days=self.horizon_days,
            messaging_hours=None
            if self.messaging_hours is None
            else tuple(WeeklyRule(r.weekday, _t(r.start), _t(r.end)) for r in self.messaging_hours),
        )

    @classmethod
    def of(cls, h: OfficeHours) -> OfficeHoursIO:
        return cls(
            timezone=h.timezone,
            weekly=[WeeklyRange(weekday=r.weekday, start=_s(r.start, False), end=_s(r.end, True)) for r in h.weekly],
            exceptions=[
                ExceptionDay(
                    date=e.date, ranges=[LocalRange(start=_s(r.start, False), end=_s(r.end, True)) for r in e.ranges]
                )
                for e in h.exceptions
            ],
            buffer_minutes=h.buffer_minutes,
            max_sessions_per_day=h.max_sessions_per_day,
            min_notice_minutes=h.min_notice_minutes,
            horizon_days=h.horizon_days,
            messaging_hours=None
            if h.messaging_hours is None
            else [
                WeeklyRange(weekday=r.weekday, start=_s(r.start, False), end=_s(r.end, True)) for r in h.messaging_hours
            ],
        )


def _t(value: str) -> time:
    # "24:00" is midnight at the end of the day; the domain writes it as time(0) in an end position.
    return time(0) if value == "24:00" else time.fromisoformat(value)


def _s(value: time, is_end: bool) -> str:
    return "24:00" if is_end and value == time(0) else value.strftime("%H:%M")


# --- slots -------------------------------------------------------------------------------------------------


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class Slots(BaseModel):
    timezone: str = Field(description="The therapist's IANA zone, for showing their local time")
    duration_minutes: int
    modality: ModalityName
    slots: list[SlotOut]


# --- appointments ------------------------------------------------------------------------------------------


class BookAppointment(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "therapist_id": "7d3f0c7e-4a51-4d6e-9b0a-2f1e5c9d8a11",
                    "start": "2026-12-07T14:00:00Z",
                    "duration_minutes": 50,
                    "modality": "video",
                }
            ]
        },
    )

    therapist_id: uuid.UUID
    start: Rfc3339
    duration_minutes: BodyMinutes
    modality: ModalityName
    client_id: uuid.UUID | None = Field(default=None, description="Therapists booking for one of their clients")
    policy_version: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=MAX_INT,
        description="The cancellation policy version the client was shown and accepts; no longer current: "
        "`409 policy_changed`. Omitted: the current version is recorded as accepted.",
    )


class AcceptedFee(Strict):
    amount_minor: AmountMinor
    currency: Currency

    def money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class CancelAppointment(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"reason": "Travelling", "accept_late_fee": {"amount_minor": 5000, "currency": "USD"}},
            ]
        },
    )

    reason: str | None = Field(default=None, max_length=500)
    accept_late_fee: AcceptedFee | None = Field(
        default=None,
        description="The late-cancellation fee the client was shown (`late_cancellation_fee` of the "
        "cancellation-terms, or `late_fee` of a `late_fee_not_accepted` problem) and accepts. A client's late "
        "cancellation that costs a fee needs exactly that amount and currency here, else `409 "
        "late_fee_not_accepted` and nothing changes. Ignored when no fee is due.",
    )


class RescheduleAppointment(Strict):
    start: Rfc3339
    duration_minutes: BodyMinutes | None = None


class AppointmentOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    practice_id: uuid.UUID
    start: datetime
    end: datetime
    duration_minutes: int
    modality: ModalityName
    status: AppointmentStatusName
    series_id: uuid.UUID | None
    cancelled_by: Literal["client", "therapist", "practice"] | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    late_cancellation: bool
    policy_version: int | None = Field(description="The cancellation policy version accepted at booking")
    created_at: datetime

    @classmethod
    def of(cls, a: Appointment) -> AppointmentOut:
        return cls(
            id=a.id,
            therapist_id=a.therapist_id,
            client_id=a.client_id,
            practice_id=a.practice_id,
            start=a.start,
            end=a.end,
            duration_minutes=a.duration_minutes,
            modality=a.modality.value,
            status=a.status.value,
            series_id=a.series_id,
            cancelled_by=a.cancelled_by.value if a.cancelled_by else None,
            cancelled_at=a.cancelled_at,
            cancel_reason=a.cancel_reason,
            late_cancellation=a.status.value == "late_cancelled",
            policy_version=a.policy_version,
            created_at=a.created_at,
        )


class AppointmentPage(BaseModel):
    items: list[AppointmentOut]
    next_cursor: str | None


class StatusChange(Strict):
    status: Literal["no_show", "completed", "checked_in", "in_progress"]


# --- recurring series --------------------------------------------------------------------------------------


class CreateSeries(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "therapist_id": "7d3f0c7e-4a51-4d6e-9b0a-2f1e5c9d8a11",
                    "start": "2026-12-07T14:00:00Z",
                    "duration_minutes": 50,
                    "modality": "video",
                    "frequency": "weekly",
                    "count": 8,
                }
            ]
        },
    )

    therapist_id: uuid.UUID
    start: Rfc3339 = Field(description="The first occurrence; later ones keep its local wall time")
    duration_minutes: BodyMinutes
    modality: ModalityName
    frequency: Literal["weekly", "fortnightly"]
    count: int | None = Field(default=None, strict=True, ge=1, le=52)
    until: IsoDate | None = Field(default=None, description="Last local date (inclusive)")
    client_id: uuid.UUID | None = None
    policy_version: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=MAX_INT,
        description="As when booking one session: the cancellation policy version the client was shown and "
        "accepts for every session of the series; no longer current: `409 policy_changed`.",
    )


class OccurrenceOut(BaseModel):
    index: int
    start: datetime
    status: Literal["booked", "conflict"]
    appointment: AppointmentOut | None
    problem_code: str | None = Field(description="Why this occurrence was not booked, e.g. `slot_taken`")
    problem_detail: str | None


class SeriesOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    timezone: str
    frequency: Literal["weekly", "fortnightly"]
    occurrences: list[OccurrenceOut]


class SeriesScope(Strict):
    scope: Literal["this", "this_and_following"] = "this"


class RescheduleSeriesAppointment(RescheduleAppointment):
    scope: Literal["this", "this_and_following"] = Field(
        default="this", description='"this_and_following" splits a recurring series at this occurrence'
    )


class CancelSeriesAppointment(CancelAppointment):
    scope: Literal["this", "this_and_following"] = Field(
        default="this", description='"this_and_following" ends a recurring series before this occurrence'
    )


# --- waitlist ----------------------------------------------------------------------------------------------


class JoinWaitlistIn(Strict):
    durations: list[BodyMinutes] = Field(min_length=1, max_length=11)
    weekdays: list[Annotated[int, Field(strict=True, ge=1, le=7)]] = Field(
        default_factory=list, max_length=7, description="ISO weekdays in your zone; empty = any day"
    )
    time_ranges: list[LocalRange] = Field(
        default_factory=list, max_length=12, description="Local times in your zone; empty = any time"
    )
    modality: ModalityName | None = None


class WaitlistEntryOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    timezone: str
    durations: list[int]
    weekdays: list[int]
    time_ranges: list[LocalRange]
    modality: ModalityName | None
    created_at: datetime


class WaitlistEntries(BaseModel):
    items: list[WaitlistEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class OfferOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    start: datetime
    end: datetime
    duration_minutes: int
    modality: ModalityName
    expires_at: datetime


class Offers(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


# --- calendar feeds ----------------------------------------------------------------------------------------


class CalendarFeedOut(BaseModel):
    url: str = Field(description="Secret address of your iCalendar feed; keep it private")
    token: str


class ClientOut(BaseModel):
    client_id: uuid.UUID
    display_name: str
    since: datetime = Field(description="When this care relationship started")
    next_appointment: AppointmentOut | None = Field(description="The earliest booked session still to come")


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


class ClientNameOut(BaseModel):
    client_id: uuid.UUID
    display_name: str


class ClientNames(BaseModel):
    items: list[ClientNameOut] = Field(description="Only the asked-for clients whose names the caller may read")
