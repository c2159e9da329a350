"""Storage for plans: metadata in the clear, each version's document sealed under the client record key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.plans.model import Acknowledgement
from domain.scheduling.ports import CareRepository
from domain.shared.records import RecordUnitOfWork


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: uuid.UUID
    practice_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlanVersionRow:
    plan_id: uuid.UUID
    version: int
    body: bytes
    created_by: uuid.UUID
    created_at: datetime


class PlanRepository(Protocol):
    async def for_relationship(
        self, client_id: uuid.UUID, therapist_id: uuid.UUID, *, for_update: bool = False
    ) -> PlanRow | None: ...

    async def for_client(self, client_id: uuid.UUID) -> list[PlanRow]: ...

    async def add(self, row: PlanRow, data_key_id: uuid.UUID) -> None: ...

    async def set_version(self, plan_id: uuid.UUID, version: int, now: datetime) -> None: ...

    async def add_version(self, row: PlanVersionRow) -> None: ...

    async def version(self, plan_id: uuid.UUID, version: int) -> PlanVersionRow | None: ...

    async def versions(self, plan_id: uuid.UUID) -> list[PlanVersionRow]: ...

    async def add_acknowledgement(self, ack: Acknowledgement) -> bool:
        """False when the version was acknowledged already (by a concurrent request): nothing is written."""

    async def acknowledgements(self, plan_id: uuid.UUID) -> list[Acknowledgement]: ...

    async def add_progress(
        self, entry_id: uuid.UUID, plan_id: uuid.UUID, note_id: uuid.UUID, goal_id: uuid.UUID, at: datetime, body: bytes
    ) -> None: ...

    async def progress(self, plan_id: uuid.UUID) -> list[tuple[uuid.UUID, bytes]]:
        """(entry id, sealed entry) pairs of the plan."""


class PlansUnitOfWork(RecordUnitOfWork, Protocol):
    plans: PlanRepository
    care: CareRepository
    audit: AuditLog
