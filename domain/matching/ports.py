"""What the matching use cases need from storage: intakes (sealed answers), match records, the waiting queue,
the therapists to match against, and the care relationships a choice starts or a switch ends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.identity.ports import PracticeRepository
from domain.matching.candidates import Candidate
from domain.messaging.ports import MessagingUnitOfWork
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.shared.paging import After
from domain.shared.records import ClientRecordRepository


class IntakeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # sealed: never changed again; a new intake is a new row


@dataclass(frozen=True, slots=True)
class StoredIntake:
    id: uuid.UUID
    client_id: uuid.UUID
    questionnaire_version: int
    status: IntakeStatus
    step: int  # where the wizard stopped (a draft), so it resumes there
    data_key_id: uuid.UUID
    body: bytes  # sealed JSON: the answers so far (a draft) or `Intake.to_dict()` (submitted)
    revision: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None


class MatchMode(StrEnum):
    SUGGEST = "suggest"  # the client gets the top 3 and chooses
    AUTOMATIC = "automatic"  # the best one is chosen for the client at once
    QUEUE = "queue"  # the client waits in a practice's queue for its batch assignment


class MatchStatus(StrEnum):
    OPEN = "open"  # suggestions given, nothing chosen yet
    QUEUED = "queued"
    CHOSEN = "chosen"  # a therapist was chosen or assigned: care started
    CLOSED = "closed"  # superseded by a newer request, or left the queue


@dataclass(frozen=True, slots=True)
class MatchRecord:
    id: uuid.UUID
    client_id: uuid.UUID
    intake_id: uuid.UUID
    intake_submitted_at: datetime
    mode: MatchMode
    status: MatchStatus
    created_at: datetime
    suggested: tuple[uuid.UUID, ...] = ()  # therapist ids offered, best first
    queue_practice_id: uuid.UUID | None = None
    therapist_id: uuid.UUID | None = None  # the one chosen or assigned
    practice_id: uuid.UUID | None = None  # the chosen therapist's practice
    score: float | None = None
    previous_therapist_id: uuid.UUID | None = None  # set when the choice was a switch
    records_transferred: bool = False
    chosen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PracticeCandidate:
    candidate: Candidate
    practice_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TimeToMatch:
    """Seconds from intake submission to a chosen therapist, over the matches of one practice."""

    matches: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


class MatchingRepository(Protocol):
    # intakes
    async def draft(self, client_id: uuid.UUID, *, for_update: bool = False) -> StoredIntake | None: ...

    async def latest_submitted(self, client_id: uuid.UUID) -> StoredIntake | None: ...

    async def intake(self, intake_id: uuid.UUID) -> StoredIntake | None: ...

    async def add_intake(self, intake: StoredIntake) -> None: ...

    async def save_intake(self, intake: StoredIntake) -> None:
        """Write status, step, body, revision and times of an existing intake."""

    # match records and the queue
    async def add_match(self, record: MatchRecord) -> None:
        """Raises Conflict(code="already_queued") for a second queued request of the client."""

    async def match(self, match_id: uuid.UUID, *, for_update: bool = False) -> MatchRecord | None: ...

    async def save_match(self, record: MatchRecord) -> None: ...

    async def close_pending(self, client_id: uuid.UUID) -> None:
        """Close the client's open suggestions and queued requests (a newer request replaces them)."""

    async def queued(
        self, practice_id: uuid.UUID, *, for_update: bool = False, after: After = None, limit: int | None = None
    ) -> list[MatchRecord]:
        """The practice's waiting queue, oldest first by (created_at, id), strictly after `after`."""

    async def time_to_match(self, practice_id: uuid.UUID) -> TimeToMatch: ...

    # therapists and care
    async def candidates(
        self,
        *,
        licence: str | None,
        practice_id: uuid.UUID | None,
        therapist_ids: tuple[uuid.UUID, ...] | None = None,
        busy_from: datetime,
        busy_to: datetime,
    ) -> list[PracticeCandidate]:
        """Therapists accepting new clients (licensed in `licence`, of `practice_id`, among `therapist_ids`,
        when given), each with their caseload (active care relationships), office hours and busy time."""

    async def practice_therapists(self, practice_id: uuid.UUID) -> list[uuid.UUID]:
        """Every therapist with a profile in the practice."""

    async def active_care(self, client_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(therapist id, practice id) of the client's active care relationships."""

    async def end_care(self, client_id: uuid.UUID, therapist_id: uuid.UUID, now: datetime) -> None: ...

    async def clients_in_care(self, therapist_id: uuid.UUID) -> list[uuid.UUID]:
        """The clients in active care with the therapist, oldest relationship first."""

    async def pending(self, client_id: uuid.UUID) -> bool:
        """Whether the client has open suggestions or waits in a queue."""

    async def move_plan(
        self, client_id: uuid.UUID, from_therapist: uuid.UUID, to_therapist: uuid.UUID, to_practice: uuid.UUID
    ) -> bool:
        """Give the client's therapy plan with `from_therapist` (its versions and progress) to `to_therapist`;
        False when there is none or the new therapist already keeps one for the client."""


class MatchingUnitOfWork(SchedulingUnitOfWork, MessagingUnitOfWork, Protocol):
    matching: MatchingRepository
    practices: PracticeRepository
    client_records: ClientRecordRepository
