"""Storage the measures use cases need. Responses are stored sealed; alerts carry ids only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.ports import UserRepository
from domain.measures.alerts import CrisisResource, SafetyAlert
from domain.measures.schedule import Assignment
from domain.plans.ports import PlansUnitOfWork
from domain.scheduling.ports import AppointmentRepository, CareRepository
from domain.shared.jobs import JobScheduler
from domain.shared.paging import After


class StoredResponse(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def practice_id(self) -> uuid.UUID: ...

    @property
    def assignment_id(self) -> uuid.UUID | None: ...

    @property
    def instrument(self) -> str: ...

    @property
    def submitted_at(self) -> datetime: ...

    @property
    def body(self) -> bytes: ...


class MeasuresRepository(Protocol):
    async def add_assignment(self, assignment: Assignment) -> None: ...

    async def assignment(self, assignment_id: uuid.UUID) -> Assignment | None: ...

    async def assignments_for_client(
        self,
        client_id: uuid.UUID,
        *,
        therapist_id: uuid.UUID | None = None,
        after: After = None,
        limit: int | None = None,
    ) -> list[Assignment]:
        """Oldest first by (created_at, id), strictly after `after`; only `therapist_id`'s when given."""

    async def assigning_practices(self, client_id: uuid.UUID) -> list[uuid.UUID]: ...

    async def save_assignment(self, assignment: Assignment) -> None: ...

    async def add_response(
        self,
        response_id: uuid.UUID,
        assignment: Assignment,
        instrument_version: int,
        submitted_at: datetime,
        body: bytes,
    ) -> None: ...

    async def responses(
        self, client_id: uuid.UUID, practice_ids: Sequence[uuid.UUID], *, after: After = None, limit: int | None = None
    ) -> Sequence[StoredResponse]:
        """The client's responses kept by these practices, oldest first by (submitted_at, id), after `after`."""

    async def last_completed(self, assignment_id: uuid.UUID) -> datetime | None: ...

    async def add_alert(self, alert: SafetyAlert) -> None: ...

    async def alert(self, alert_id: uuid.UUID) -> SafetyAlert | None: ...

    async def open_alerts(self, therapist_id: uuid.UUID, *, after: After, limit: int) -> list[SafetyAlert]: ...

    async def save_alert(self, alert: SafetyAlert) -> None: ...


class PracticeSettingsRepository(Protocol):
    async def crisis_resources(self, practice_id: uuid.UUID) -> list[CrisisResource] | None: ...

    async def set_crisis_resources(
        self, practice_id: uuid.UUID, resources: list[CrisisResource], at: datetime
    ) -> None: ...


class MeasuresUnitOfWork(PlansUnitOfWork, Protocol):
    practice_settings: PracticeSettingsRepository
    users: UserRepository
    care: CareRepository
    appointments: AppointmentRepository
    measures: MeasuresRepository
    audit: AuditLog
    jobs: JobScheduler
