"""A live session: the state of one appointment's call, its check-in and its timeline of events."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.scheduling.model import Appointment, Modality
from domain.shared.errors import InvalidState, ValidationFailed
from domain.shared.iso import is_country, is_subdivision


class MediaPath(StrEnum):
    P2P = "p2p"  # browser to browser (the default for 1:1)
    RELAYED = "relayed"  # each participant to the server's relay; nobody learns another's address


class EventKind(StrEnum):
    CHECKED_IN = "checked_in"
    ADMITTED = "admitted"
    JOINED = "joined"
    LEFT = "left"
    MODALITY_CHANGED = "modality_changed"
    PATH_CHANGED = "path_changed"
    PHONE_STATUS = "phone_status"
    ENDED = "ended"
    NO_SHOW = "no_show"
    THERAPIST_NO_SHOW = "therapist_no_show"


# Step-down only goes down this ladder within one session (never back up: the network that failed stays bad).
STEP_DOWN: tuple[Modality, ...] = (Modality.VIDEO, Modality.AUDIO, Modality.PHONE, Modality.CHAT)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    id: uuid.UUID
    appointment_id: uuid.UUID
    at: datetime
    kind: EventKind
    actor_id: uuid.UUID | None = None
    modality: Modality | None = None
    # Never sensitive: a media path, a phone-call status, a reason code.
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class JoinWindow:
    opens: datetime
    closes: datetime

    def contains(self, moment: datetime) -> bool:
        return self.opens <= moment <= self.closes


@dataclass(frozen=True, slots=True)
class WindowRules:
    early: timedelta = timedelta(minutes=10)
    late: timedelta = timedelta(minutes=15)
    no_show_after: timedelta = timedelta(minutes=15)

    def window(self, appointment: Appointment) -> JoinWindow:
        return JoinWindow(appointment.start - self.early, appointment.end + self.late)


@dataclass(slots=True)
class LiveSession:
    appointment_id: uuid.UUID
    practice_id: uuid.UUID
    modality: Modality
    media_path: MediaPath
    data_key_id: uuid.UUID
    created_at: datetime
    auto_admit: bool = False
    checked_in_at: datetime | None = None
    check_in: bytes | None = None  # sealed CheckIn
    admitted_at: datetime | None = None
    ended_at: datetime | None = None
    last_signal_seq: int = 0

    def step_down(self, target: Modality) -> None:
        if self.ended_at is not None:
            raise InvalidState("The session has ended.", code="session_ended")
        if target not in STEP_DOWN or STEP_DOWN.index(target) <= STEP_DOWN.index(self.modality):
            raise ValidationFailed(
                f"A {self.modality.value} session can only step down (video, audio, phone, chat).",
                code="invalid_step_down",
                field="modality",
            )
        self.modality = target


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z0-9]{1,3}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What the client confirms before a live session. Sealed at rest; never logged."""

    country: str  # ISO 3166-1 alpha-2
    region: str | None  # the US state (or other subdivision) code, required for the US
    at_home: bool
    emergency_contact: EmergencyContact
    emergency_contact_updated: bool
    private: bool  # False: "I am not alone - chat only today"
    submitted_at: datetime = field(compare=False, default=datetime.min)

    @property
    def location_code(self) -> str:
        return f"{self.country}-{self.region}" if self.region else self.country


def validate_check_in(check_in: CheckIn) -> None:
    if not _COUNTRY.match(check_in.country) or not is_country(check_in.country):
        raise ValidationFailed("country is an ISO 3166 code such as 'US'.", code="invalid_check_in", field="country")
    if check_in.region is not None and (
        not _REGION.match(check_in.region) or not is_subdivision(check_in.country, check_in.region)
    ):
        raise ValidationFailed(
            f"region is an ISO 3166-2 subdivision of {check_in.country}, such as 'NY' in the US.",
            code="invalid_check_in",
            field="region",
        )
    if check_in.country == "US" and not check_in.region:
        raise ValidationFailed("In the US, give the state you are in.", code="invalid_check_in", field="region")
    contact = check_in.emergency_contact
    if not contact.name.strip() or len(contact.name) > 200:
        raise ValidationFailed(
            "The emergency contact needs a name.", code="invalid_check_in", field="emergency_contact.name"
        )
    if not _PHONE.match(contact.phone):
        raise ValidationFailed(
            "The emergency contact's phone is E.164, e.g. +14155550123.",
            code="invalid_check_in",
            field="emergency_contact.phone",
        )


def licensed_for(licences: tuple[str, ...], check_in: CheckIn) -> bool:
    """A licence names a US state ("US-NY") or a whole country ("GB")."""
    return check_in.location_code in licences or (
        check_in.region is not None and check_in.country in licences and check_in.country != "US"
    )
