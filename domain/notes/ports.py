"""Storage for progress notes and psychotherapy notes: states in the clear, content sealed per note."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.ports import UserRepository
from domain.notes.model import CompletedSession, NoteState, Template
from domain.plans.ports import PlansUnitOfWork
from domain.scheduling.ports import AppointmentRepository
from domain.shared.paging import After


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: uuid.UUID
    appointment_id: uuid.UUID
    practice_id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    data_key_id: uuid.UUID
    template: Template
    state: NoteState
    body: bytes
    content_hash: str | None
    signed_by: uuid.UUID | None
    signed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AddendumRow:
    id: uuid.UUID
    note_id: uuid.UUID
    author_id: uuid.UUID
    created_at: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class PsychotherapyRow:
    id: uuid.UUID
    author_id: uuid.UUID
    client_id: uuid.UUID
    appointment_id: uuid.UUID | None
    data_key_id: uuid.UUID
    body: bytes
    version: int
    created_at: datetime
    updated_at: datetime


class NoteRepository(Protocol):
    async def for_appointment(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> NoteRow | None: ...

    async def get(self, note_id: uuid.UUID, *, for_update: bool = False) -> NoteRow | None: ...

    async def add(self, row: NoteRow) -> None:
        """Raises Conflict(code="note_exists") when the appointment already has a note."""

    async def save(self, row: NoteRow) -> None: ...

    async def add_addendum(self, row: AddendumRow) -> None: ...

    async def addenda(self, note_id: uuid.UUID) -> list[AddendumRow]: ...

    async def unsigned_sessions(
        self,
        therapist_id: uuid.UUID,
        *,
        started_from: datetime,
        ended_before: datetime,
        after: After,
        limit: int,
    ) -> list[tuple[CompletedSession, NoteState | None]]:
        """The therapist's completed sessions that started from `started_from` and ended before `ended_before`
        whose note is missing (None) or unsigned, oldest end first by (end, id), strictly after `after`."""


class PsychotherapyRepository(Protocol):
    async def get(self, note_id: uuid.UUID, *, for_update: bool = False) -> PsychotherapyRow | None: ...

    async def add(self, row: PsychotherapyRow) -> None: ...

    async def save(self, row: PsychotherapyRow) -> None: ...

    async def by_author(
        self, author_id: uuid.UUID, client_id: uuid.UUID, *, after: After, limit: int
    ) -> list[PsychotherapyRow]:
        """Oldest first by (created_at, id), strictly after `after`."""


class NotesUnitOfWork(PlansUnitOfWork, Protocol):
    users: UserRepository
    appointments: AppointmentRepository
    notes: NoteRepository
    psychotherapy_notes: PsychotherapyRepository
    audit: AuditLog
