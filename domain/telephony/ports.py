"""The telephony provider port, and the storage port of phone calls.

`bridge` calls `first` (the therapist), and when they answer, calls `second` (the client) and joins the two legs;
both see the practice's number, never each other's. Call progress comes back later through the provider's
webhooks as `CallEvent`s, which the adapter reads (and authenticates) with `read_status`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from domain.audit.events import AuditLog
from domain.identity.ports import UserRepository
from domain.scheduling.ports import AppointmentRepository
from domain.shared.jobs import JobScheduler
from domain.shared.ports import UnitOfWork

if TYPE_CHECKING:
    from domain.telephony.model import PhoneCall


class CallStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


class CallLeg(StrEnum):
    """`first` is the leg the provider places (to the therapist); `second` the one dialled once they answer."""

    FIRST = "first"
    SECOND = "second"


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str


@dataclass(frozen=True)
class CallEvent:
    provider_call_id: str
    status: CallStatus
    at: datetime
    duration_seconds: int | None = None
    leg: CallLeg = CallLeg.FIRST


@dataclass(frozen=True)
class WebhookReply:
    """What the provider expects back from a webhook (e.g. TwiML for Twilio)."""

    media_type: str
    body: str


class Telephony(Protocol):
    async def bridge(self, *, reference: str, first: str, second: str) -> PlacedCall:
        """`reference` is ours (an opaque call id), echoed in webhooks; numbers are E.164.
        Raises `TelephonyUnavailable` when the provider did not accept the call, and `CallPlacementUnconfirmed`
        when it may have (its answer was lost and it cannot be shown that no such call exists)."""
        ...

    async def hang_up(self, provider_call_id: str) -> None: ...

    def verify_webhook(self, url: str, params: dict[str, str], signature: str | None) -> None:
        """Raises `InvalidWebhookSignature` unless the request provably comes from the provider."""
        ...

    def read_status(self, params: dict[str, str]) -> CallEvent:
        """A status callback's parameters as an event (the signature is checked first, by the caller)."""
        ...

    def connect_second(self, *, reference: str, second: str) -> WebhookReply:
        """The answer to the provider's "the first leg answered, what now?" webhook: dial `second`."""
        ...

    def decline(self) -> WebhookReply:
        """The same webhook's answer when there is nobody to dial any more: end the call politely."""
        ...


class CallStatusListener(Protocol):
    """Told after commit whenever a session's phone call changes status (e.g. to count phone minutes)."""

    async def __call__(self, appointment_id: uuid.UUID, status: CallStatus, at: datetime) -> None: ...


class PhoneCallRepository(Protocol):
    async def add(self, call: PhoneCall) -> None:
        """Raises `CallAlreadyLive` when the appointment already has a live call (a database guarantee)."""

    async def get(self, call_id: uuid.UUID, *, for_update: bool = False) -> PhoneCall | None: ...

    async def save(self, call: PhoneCall) -> None: ...

    async def for_appointment(self, appointment_id: uuid.UUID) -> list[PhoneCall]:
        """Oldest first."""
        ...

    async def latest_for_appointment(
        self, appointment_id: uuid.UUID, *, for_update: bool = False
    ) -> PhoneCall | None: ...


class TelephonyUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    appointments: AppointmentRepository
    phone_calls: PhoneCallRepository
    audit: AuditLog
    jobs: JobScheduler
