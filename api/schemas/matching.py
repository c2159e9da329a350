"""Contract models for the intake questionnaire, match suggestions and choices, the waiting queue with its batch
assignment, and the time-to-match report."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.scheduling import LocalTime, ModalityName, SlotOut
from api.schemas.types import RequestModel
from domain.matching.batch import Placement
from domain.matching.intake import (
    Budget,
    Concern,
    GenderPreference,
    Insurance,
    Intake,
    PriorTherapy,
)
from domain.matching.ports import MatchRecord, TimeToMatch
from domain.matching.service import BatchResult, IntakeState, QueueEntry, Suggestion
from domain.scheduling.model import Modality, TimeRange

ConcernName = Literal[
    "anxiety", "depression", "trauma", "relationships", "grief", "stress", "substance_use", "family", "parenting",
    "self_esteem", "anger", "sleep", "eating", "ocd", "adhd", "life_transitions", "identity", "chronic_illness",
    "work", "other",
]  # fmt: skip
PriorTherapyName = Literal["never", "past", "current"]
GenderPreferenceName = Literal["no_preference", "woman", "man", "non_binary"]
MatchModeName = Literal["suggest", "automatic", "queue"]


def _t(value: str) -> time:
    return time(0) if value == "24:00" else time.fromisoformat(value)


class TimeWindow(RequestModel):
    start: LocalTime
    end: LocalTime


class BudgetIn(RequestModel):
    kind: Literal["budget"]
    max_amount_minor: int = Field(strict=True, ge=0, le=10_000_000, description="Per session, in minor units")
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["USD"])


class InsuranceIn(RequestModel):
    kind: Literal["insurance"]
    payer: str = Field(min_length=1, max_length=100)


Payment = Annotated[BudgetIn | InsuranceIn, Field(discriminator="kind")]


class IntakeAnswers(RequestModel):
    """The whole questionnaire (version 1). Days and times are read in `timezone`."""

    concerns: list[ConcernName] = Field(min_length=1, max_length=20)
    prior_therapy: PriorTherapyName
    modalities: list[ModalityName] = Field(min_length=1, max_length=4)
    session_minutes: int = Field(strict=True, ge=10, le=60, multiple_of=5)
    language: str = Field(min_length=2, max_length=20, examples=["en"])
    residence: str = Field(min_length=2, max_length=6, examples=["US-OH"], description='"US-OH", "GB"...')
    timezone: str = Field(min_length=1, max_length=64, examples=["America/New_York"])
    consent_to_match: bool = Field(strict=True)
    therapist_gender: GenderPreferenceName = "no_preference"
    faith_based: bool = Field(default=False, strict=True)
    lgbtq_affirming: bool = Field(default=False, strict=True)
    days: list[Annotated[int, Field(strict=True, ge=1, le=7)]] = Field(
        default_factory=list, max_length=7, description="ISO weekdays (Monday = 1); empty: any day"
    )
    times: list[TimeWindow] = Field(default_factory=list, max_length=6, description="Empty: any time of day")
    payment: Payment | None = None

    def to_domain(self) -> Intake:
        payment: Budget | Insurance | None = None
        if isinstance(self.payment, BudgetIn):
            payment = Budget(self.payment.max_amount_minor, self.payment.currency)
        elif isinstance(self.payment, InsuranceIn):
            payment = Insurance(self.payment.payer)
        return Intake(
            concerns=tuple(Concern(c) for c in self.concerns),
            prior_therapy=PriorTherapy(self.prior_therapy),
            modalities=tuple(Modality(m) for m in self.modalities),
            session_minutes=self.session_minutes,
            language=self.language,
            residence=self.residence,
            timezone=self.timezone,
            consent_to_match=self.consent_to_match,
            therapist_gender=GenderPreference(self.therapist_gender),
            faith_based=self.faith_based,
            lgbtq_affirming=self.lgbtq_affirming,
            days=tuple(self.days),
            times=tuple(TimeRange(_t(w.start), _t(w.end)) for w in self.times),
            payment=payment,
        )


class DraftAnswers(RequestModel):
    """Answers so far: every question is optional in a draft."""

    concerns: list[ConcernName] | None = Field(default=None, max_length=20)
    prior_therapy: PriorTherapyName | None = None
    modalities: list[ModalityName] | None = Field(default=None, max_length=4)
    session_minutes: int | None = Field(default=None, strict=True, ge=10, le=60, multiple_of=5)
    language: str | None = Field(default=None, max_length=20)
    residence: str | None = Field(default=None, max_length=6)
    timezone: str | None = Field(default=None, max_length=64)
    consent_to_match: bool | None = Field(default=None, strict=True)
    therapist_gender: GenderPreferenceName | None = None
    faith_based: bool | None = Field(default=None, strict=True)
    lgbtq_affirming: bool | None = Field(default=None, strict=True)
    days: list[Annotated[int, Field(strict=True, ge=1, le=7)]] | None = Field(default=None, max_length=7)
    times: list[TimeWindow] | None = Field(default=None, max_length=6)
    payment: Payment | None = None


class IntakeDraftIn(RequestModel):
    step: int = Field(strict=True, ge=0, le=50, description="The wizard step to resume at")
    answers: DraftAnswers

    def answers_doc(self) -> dict[str, Any]:
        return self.answers.model_dump(mode="json", exclude_none=True)


class Option(BaseModel):
    value: str
    label: str


class Questionnaire(BaseModel):
    version: int
    concerns: list[Option]
    prior_therapy: list[str]
    therapist_gender: list[str]
    modalities: list[str]


class IntakeStateOut(BaseModel):
    questionnaire: Questionnaire
    draft: DraftAnswers | None = Field(description="The saved draft, to resume; null when there is none")
    step: int
    revision: int
    submitted_at: datetime | None = Field(description="When the latest intake was submitted, if ever")

    @classmethod
    def of(cls, state: IntakeState) -> IntakeStateOut:
        return cls(
            questionnaire=Questionnaire(
                version=state.questionnaire_version,
                concerns=[Option(value=c.value, label=c.label) for c in Concern],
                prior_therapy=[p.value for p in PriorTherapy],
                therapist_gender=[g.value for g in GenderPreference],
                modalities=[m.value for m in Modality],
            ),
            draft=None if state.draft is None else DraftAnswers.model_validate(state.draft),
            step=state.step,
            revision=state.revision,
            submitted_at=state.submitted_at,
        )


class IntakeSubmitted(BaseModel):
    id: uuid.UUID
    questionnaire_version: int
    submitted_at: datetime


# --- matches ------------------------------------------------------------------------------------------------


class MatchRequest(RequestModel):
    mode: MatchModeName = Field(
        default="suggest",
        description="`suggest`: the top 3 to choose from; `automatic`: the best is chosen now; "
        "`queue`: wait for the practice's batch assignment",
    )
    practice_id: uuid.UUID | None = Field(default=None, description="The practice whose queue to join (`queue`)")
    transfer_records: bool = Field(
        default=False,
        strict=True,
        description="`automatic` and `queue`: when this assignment switches therapist, consent to move your therapy "
        "plan to the new therapist (audited)",
    )


class ReasonOut(BaseModel):
    kind: str
    text: str
    points: float


class SuggestionOut(BaseModel):
    therapist_id: uuid.UUID
    display_name: str
    practice_id: uuid.UUID
    score: float
    reasons: list[ReasonOut]
    session_minutes: int
    open_times: int = Field(description="Free sessions in the next 14 days that fit the client's times")
    next_open: list[SlotOut]

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionOut:
        m = s.match
        return cls(
            therapist_id=m.therapist_id,
            display_name=s.profile.display_name,
            practice_id=s.practice_id,
            score=m.score,
            reasons=[ReasonOut(kind=r.kind.value, text=r.text, points=round(r.points, 2)) for r in m.reasons],
            session_minutes=m.session_minutes,
            open_times=m.open_times,
            next_open=[SlotOut(start=slot.start, end=slot.end) for slot in m.next_open],
        )


class MatchOut(BaseModel):
    id: uuid.UUID
    mode: MatchModeName
    status: Literal["open", "queued", "chosen", "closed"]
    created_at: datetime
    intake_submitted_at: datetime
    suggestions: list[SuggestionOut] = Field(description="Only in the answer that made them")
    suggested_therapist_ids: list[uuid.UUID]
    queue_practice_id: uuid.UUID | None
    therapist_id: uuid.UUID | None
    practice_id: uuid.UUID | None
    previous_therapist_id: uuid.UUID | None = Field(description="Set when the choice switched therapist")
    records_transferred: bool
    chosen_at: datetime | None

    @classmethod
    def of(cls, r: MatchRecord, suggestions: tuple[Suggestion, ...] = ()) -> MatchOut:
        return cls(
            id=r.id,
            mode=r.mode.value,
            status=r.status.value,
            created_at=r.created_at,
            intake_submitted_at=r.intake_submitted_at,
            suggestions=[SuggestionOut.of(s) for s in suggestions],
            suggested_therapist_ids=list(r.suggested),
            queue_practice_id=r.queue_practice_id,
            therapist_id=r.therapist_id,
            practice_id=r.practice_id,
            previous_therapist_id=r.previous_therapist_id,
            records_transferred=r.records_transferred,
            chosen_at=r.chosen_at,
        )


class ChoiceIn(RequestModel):
    therapist_id: uuid.UUID
    transfer_records: bool = Field(
        default=False,
        strict=True,
        description="When switching: consent to move your therapy plan to the new therapist (audited)",
    )


# --- queue and batch ----------------------------------------------------------------------------------------


class QueueItem(BaseModel):
    match_id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    requested_at: datetime
    intake_submitted_at: datetime

    @classmethod
    def of(cls, e: QueueEntry) -> QueueItem:
        return cls(
            match_id=e.record.id,
            client_id=e.record.client_id,
            client_name=e.client_name,
            requested_at=e.record.created_at,
            intake_submitted_at=e.record.intake_submitted_at,
        )


class Queue(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class PlacementOut(BaseModel):
    match_id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    outcome: Literal["assigned", "no_fit", "room_taken", "no_consent"]
    therapist_id: uuid.UUID | None
    therapist_name: str | None
    score: float | None
    reasons: list[str] = Field(description="Why this therapist, or why nobody")

    @classmethod
    def of(cls, entry: QueueEntry, p: Placement, names: dict[uuid.UUID, str]) -> PlacementOut:
        return cls(
            match_id=entry.record.id,
            client_id=p.client_id,
            client_name=entry.client_name,
            outcome=p.outcome.value,
            therapist_id=p.therapist_id,
            therapist_name=names.get(p.therapist_id) if p.therapist_id else None,
            score=p.match.score if p.match else None,
            reasons=list(p.why),
        )


class BatchOut(BaseModel):
    confirmed: bool = Field(description="False: a preview, nothing changed")
    total_score: float
    assigned: int
    placements: list[PlacementOut]

    @classmethod
    def of(cls, b: BatchResult) -> BatchOut:
        names = dict(b.names)
        return cls(
            confirmed=b.confirmed,
            total_score=round(b.plan.total_score, 2),
            assigned=b.plan.assigned,
            placements=[PlacementOut.of(e, p, names) for e, p in zip(b.entries, b.plan.placements, strict=True)],
        )


class TimeToMatchOut(BaseModel):
    """From intake submitted to therapist chosen, over the practice's matches."""

    matches: int
    mean_hours: float | None
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None

    @classmethod
    def of(cls, t: TimeToMatch) -> TimeToMatchOut:
        def h(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds / 3600, 3)

        return cls(
            matches=t.matches,
            mean_hours=h(t.mean_seconds),
            median_hours=h(t.median_seconds),
            p90_hours=h(t.p90_seconds),
            max_hours=h(t.max_seconds),
        )
