"""Contract models for therapy plans, progress notes and psychotherapy notes. Document shapes mirror the
domain's versioned documents (`to_dict` without its `v`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.types import MAX_INT, IsoDate, RequestModel
from domain.notes.model import (
    MAX_FIELD,
    MAX_FREE_TEXT,
    NoteDocument,
    NoteTodo,
    ProgressNote,
    Template,
    validate_document,
)
from domain.notes.psychotherapy import PsychotherapyNote
from domain.plans.model import MAX_TEXT, GoalRating, PlanDocument, ProgressEntry, ProgressRating, TherapyPlan

Status = Literal["not_started", "in_progress", "achieved", "revised", "discontinued"]
Rating = Literal["progressing", "maintained", "regressed", "not_addressed"]


class ScoreTargetIO(RequestModel):
    instrument: Literal["phq9", "gad7"]
    comparison: Literal["<", "<=", ">", ">="]
    value: int = Field(strict=True, ge=0, le=1000)


class ObjectiveIO(RequestModel):
    id: uuid.UUID
    text: str = Field(max_length=2000)
    status: Status
    target_date: IsoDate | None = None
    score_target: ScoreTargetIO | None = Field(default=None, description='e.g. PHQ-9 total "<" 10 by target_date')


class GoalIO(RequestModel):
    id: uuid.UUID
    text: str = Field(max_length=2000)
    status: Status
    target_date: IsoDate | None = None
    objectives: list[ObjectiveIO] = Field(default_factory=list, max_length=10)


class InterventionIO(RequestModel):
    text: str = Field(max_length=2000)
    frequency: str = Field(default="", max_length=200)


class PlanDocumentIO(RequestModel):
    problems: list[Annotated[str, Field(max_length=MAX_TEXT)]] = Field(default_factory=list, max_length=20)
    goals: list[GoalIO] = Field(default_factory=list, max_length=20)
    interventions: list[InterventionIO] = Field(default_factory=list, max_length=30)
    review_date: IsoDate | None = None

    def to_domain(self) -> PlanDocument:
        return PlanDocument.from_dict({"v": 1, **self.model_dump(mode="json")})

    @classmethod
    def of(cls, document: PlanDocument) -> PlanDocumentIO:
        data = document.to_dict()
        data.pop("v")
        return cls.model_validate(data)


class ProgressOut(BaseModel):
    goal_id: uuid.UUID
    note_id: uuid.UUID
    rating: Rating
    comment: str
    on: date
    recorded_at: datetime

    @classmethod
    def of(cls, e: ProgressEntry) -> ProgressOut:
        return cls(
            goal_id=e.goal_id,
            note_id=e.note_id,
            rating=e.rating.value,
            comment=e.comment,
            on=e.on,
            recorded_at=e.recorded_at,
        )


class PlanOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    version: int
    updated_at: datetime
    document: PlanDocumentIO
    acknowledged_at: datetime | None = Field(default=None, description="When the client acknowledged this version")
    progress: list[ProgressOut] = Field(default_factory=list, description="Per-goal ratings from signed notes")

    @classmethod
    def of(cls, plan: TherapyPlan, **extra: Any) -> PlanOut:
        return cls(
            id=plan.id,
            client_id=plan.client_id,
            therapist_id=plan.therapist_id,
            version=plan.version,
            updated_at=plan.updated_at,
            document=PlanDocumentIO.of(plan.document),
            **extra,
        )


class Acknowledge(RequestModel):
    version: int = Field(strict=True, ge=1, le=MAX_INT)


class AcknowledgementOut(BaseModel):
    plan_id: uuid.UUID
    version: int
    acknowledged_at: datetime


class GoalRatingIO(RequestModel):
    goal_id: uuid.UUID
    rating: Rating
    comment: str = Field(default="", max_length=2000)


class NoteDocumentIO(RequestModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "template": "soap",
                    "fields": {"subjective": "…", "objective": "…", "assessment": "…", "plan": "…"},
                    "ratings": [],
                }
            ]
        },
    }

    template: Literal["soap", "dap", "birp", "free"]
    fields: dict[Annotated[str, Field(max_length=20)], Annotated[str, Field(max_length=MAX_FREE_TEXT)]] = Field(
        max_length=4,
        description="soap: subjective, objective, assessment, plan; dap: data, assessment, plan; "
        f"birp: behavior, intervention, response, plan; free: text (at most {MAX_FREE_TEXT} characters; "
        f"a field of the other templates at most {MAX_FIELD})",
    )
    ratings: list[GoalRatingIO] = Field(default_factory=list, max_length=20)

    def to_domain(self) -> NoteDocument:
        # A draft may leave fields out; `of` fills them with "" (signing then asks for them).
        document = NoteDocument.of(
            Template(self.template),
            self.fields,
            [GoalRating(r.goal_id, ProgressRating(r.rating), r.comment) for r in self.ratings],
        )
        validate_document(document)
        return document


class AddendumOut(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID
    written_at: datetime
    text: str


class NoteOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    state: Literal["draft", "signed"]
    version: int
    document: NoteDocumentIO
    signed_at: datetime | None
    signed_by: uuid.UUID | None
    content_hash: str | None
    addenda: list[AddendumOut]
    updated_at: datetime

    @classmethod
    def of(cls, n: ProgressNote) -> NoteOut:
        data = n.document.to_dict()
        data.pop("v")
        s = n.signature
        return cls(
            id=n.id,
            appointment_id=n.appointment_id,
            client_id=n.client_id,
            therapist_id=n.therapist_id,
            state=n.state.value,
            version=n.version,
            document=NoteDocumentIO.model_validate(data),
            signed_at=s.signed_at if s else None,
            signed_by=s.signer_id if s else None,
            content_hash=s.content_hash if s else None,
            addenda=[
                AddendumOut(id=a.id, author_id=a.author_id, written_at=a.written_at, text=a.text) for a in n.addenda
            ],
            updated_at=n.updated_at,
        )


class AddAddendum(RequestModel):
    text: str = Field(min_length=1, max_length=10000)


class TodoOut(BaseModel):
    appointment_id: uuid.UUID
    ended_at: datetime
    due_at: datetime
    reason: Literal["missing", "unsigned"]

    @classmethod
    def of(cls, t: NoteTodo) -> TodoOut:
        return cls(appointment_id=t.appointment_id, ended_at=t.ended_at, due_at=t.due_at, reason=t.reason.value)


class Todos(BaseModel):
    items: list[TodoOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class PsychotherapyIn(RequestModel):
    text: str = Field(min_length=1, max_length=50000)
    appointment_id: uuid.UUID | None = None


class PsychotherapyEdit(RequestModel):
    text: str = Field(min_length=1, max_length=50000)


class PsychotherapyOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    appointment_id: uuid.UUID | None
    text: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, n: PsychotherapyNote) -> PsychotherapyOut:
        return cls(
            id=n.id,
            client_id=n.client_id,
            appointment_id=n.appointment_id,
            text=n.document.text,
            version=n.version,
            created_at=n.created_at,
            updated_at=n.updated_at,
        )


class PsychotherapyList(BaseModel):
    items: list[PsychotherapyOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")
