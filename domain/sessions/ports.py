"""What the live-session use cases need: storage, and the outside services they drive (phone calls, billing)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.ports import UserRepository
from domain.scheduling.model import Appointment, Modality
from domain.scheduling.ports import AppointmentRepository, ProfileRepository
from domain.sessions.model import LiveSession, SessionEvent
from domain.shared.data_keys import DataKeyUnitOfWork
from domain.shared.jobs import JobScheduler


@dataclass(frozen=True, slots=True)
class StoredSignal:
    """One signaling frame for one recipient (SDP or an ICE candidate), sealed: it holds network addresses."""

    appointment_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    recipient_id: uuid.UUID
    kind: str
    body: bytes
    created_at: datetime


class LiveSessionRepository(Protocol):
    async def get(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> LiveSession | None: ...

    async def add(self, session: LiveSession) -> bool:
        """False when the appointment already has a session (a concurrent first visit)."""

    async def save(self, session: LiveSession) -> None: ...

    async def add_event(self, event: SessionEvent) -> None: ...

    async def events(self, appointment_id: uuid.UUID) -> list[SessionEvent]: ...

    async def add_signal(self, signal: StoredSignal) -> None: ...

    async def signals_after(
        self, appointment_id: uuid.UUID, recipient_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[StoredSignal]: ...

    async def drop_signals(self, appointment_id: uuid.UUID) -> None: ...

    async def last_check_in(self, client_id: uuid.UUID, *, other_than: uuid.UUID) -> LiveSession | None:
        """The client's most recent checked-in session other than `other_than` (its emergency contact is offered
        for confirmation)."""

    async def require_relayed(self, practice_id: uuid.UUID) -> bool: ...

    async def set_require_relayed(self, practice_id: uuid.UUID, required: bool, at: datetime) -> None: ...


class SessionsUnitOfWork(DataKeyUnitOfWork, Protocol):
    users: UserRepository
    appointments: AppointmentRepository
    profiles: ProfileRepository
    live_sessions: LiveSessionRepository
    audit: AuditLog
    jobs: JobScheduler


class PhoneCalls(Protocol):
    """Step-down to the phone: the telephony service calls the therapist, then the client, and bridges them
    (neither sees the other's number). Its call status comes back through `SessionService.record_phone_status`."""

    async def check_call_for_session(
        self, appointment_id: uuid.UUID, therapist_id: uuid.UUID, client_id: uuid.UUID
    ) -> None:
        """Raises the refusal that `call_for_session` would give now (a number missing, outside the call window, a
        call already live), placing nothing."""

    async def call_for_session(
        self, appointment_id: uuid.UUID, therapist_id: uuid.UUID, client_id: uuid.UUID
    ) -> object: ...


class SessionOutcomes(Protocol):
    """Told, inside the transaction that records it (the caller's `uow`, the appointment locked), when a session
    completes or the client does not show (billing listens): the charge commits with the outcome or not at all,
    so no failure after the commit can lose it. Database work only; a provider call is a job of its own."""

    async def completed_in(
        self,
        uow: SessionsUnitOfWork,
        appointment: Appointment,
        connected_minutes: Mapping[Modality, int],
        at_home: bool | None,
        ended_at: datetime,
    ) -> object: ...

    async def no_show_in(self, uow: SessionsUnitOfWork, appointment: Appointment, at: datetime) -> object: ...


class SessionNotifier(Protocol):
    """Rings the participants' sockets (any process): the session changed, or a signal waits for `user_id`."""

    async def session_changed(self, appointment_id: uuid.UUID, user_id: uuid.UUID) -> None: ...

    async def signal(self, appointment_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> None: ...
