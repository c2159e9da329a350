"""Contract models for questionnaires, answers, scores, trends and safety alerts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.types import RequestModel, Rfc3339
from domain.measures.alerts import CrisisResource, SafetyAlert
from domain.measures.instruments import Instrument
from domain.measures.schedule import Assignment, DueMeasure
from domain.measures.scoring import ScoredResponse
from domain.measures.trend import Trend

InstrumentName = Literal["phq9", "gad7"]
Answer = Annotated[int, Field(strict=True, ge=0, le=3)]


class OptionOut(BaseModel):
    value: int
    label: str


class ItemOut(BaseModel):
    key: str
    number: int
    text: str


class InstrumentOut(BaseModel):
    code: str
    version: int
    name: str
    title: str
    stem: str
    items: list[ItemOut]
    options: list[OptionOut]
    max_total: int
    difficulty_question: str | None

    @classmethod
    def of(cls, i: Instrument) -> InstrumentOut:
        return cls(
            code=i.code,
            version=i.version,
            name=i.name,
            title=i.title,
            stem=i.stem,
            items=[ItemOut(key=it.key, number=it.number, text=it.text) for it in i.items],
            options=[OptionOut(value=o.value, label=o.label) for o in i.options],
            max_total=i.max_total,
            difficulty_question=i.difficulty.text if i.difficulty else None,
        )


class Instruments(BaseModel):
    items: list[InstrumentOut]


class AssignMeasure(RequestModel):
    instrument: InstrumentName
    frequency: Literal["once", "before_every_session", "every_n_days"]
    starts_at: Rfc3339 | None = None
    interval_days: int | None = Field(default=None, strict=True, ge=1, le=90)
    lead_hours: int | None = Field(default=None, strict=True, ge=1, le=168)


class AssignmentOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    instrument: str
    frequency: str
    starts_at: datetime
    interval_days: int | None
    lead_hours: int | None
    ended_at: datetime | None
    due_at: datetime | None = Field(description="When the next completion is due; null when nothing is pending")
    due_now: bool

    @classmethod
    def of(cls, a: Assignment, due: DueMeasure | None, now: datetime) -> AssignmentOut:
        return cls(
            id=a.id,
            client_id=a.client_id,
            therapist_id=a.therapist_id,
            instrument=a.instrument_code,
            frequency=a.frequency.value,
            starts_at=a.starts_at,
            interval_days=a.interval_days,
            lead_hours=a.lead_hours,
            ended_at=a.ended_at,
            due_at=due.due_at if due else None,
            due_now=bool(due and due.is_due(now)),
        )


class Assignments(BaseModel):
    items: list[AssignmentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class SubmitResponse(RequestModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [{"answers": {"q1": 1, "q2": 0, "q3": 2, "q4": 1, "q5": 0, "q6": 0, "q7": 1, "q8": 0, "q9": 0}}]
        },
    }

    answers: dict[Annotated[str, Field(pattern=r"^q[0-9]{1,2}$")], Answer] = Field(max_length=20)
    difficulty: Answer | None = Field(default=None, description="PHQ-9's functional-difficulty question (unscored)")


class CrisisResourceOut(BaseModel):
    name: str
    phone: str | None
    text: str | None
    url: str | None
    description: str | None

    @classmethod
    def of(cls, r: CrisisResource) -> CrisisResourceOut:
        return cls(name=r.name, phone=r.phone, text=r.text, url=r.url, description=r.description)


class ScoreOut(BaseModel):
    id: uuid.UUID
    assignment_id: uuid.UUID | None
    instrument: str
    completed_at: datetime
    total: int
    max_total: int
    severity: str
    severity_label: str
    flags: list[str]
    answers: dict[str, int]

    @classmethod
    def of(cls, r: ScoredResponse) -> ScoreOut:
        s = r.score
        return cls(
            id=r.id,
            assignment_id=r.assignment_id,
            instrument=s.instrument_code,
            completed_at=r.completed_at,
            total=s.total,
            max_total=s.max_total,
            severity=s.band.value,
            severity_label=s.band_label,
            flags=sorted(f.value for f in s.flags),
            answers=dict(s.answers),
        )


class SubmittedOut(ScoreOut):
    crisis_resources: list[CrisisResourceOut] = Field(
        description="Shown to the client at once when an answer signals risk (PHQ-9 item 9)"
    )


class Scores(BaseModel):
    items: list[ScoreOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class TrendPointOut(BaseModel):
    response_id: uuid.UUID
    completed_at: datetime
    date: date
    total: int
    severity: str


class TrendOut(BaseModel):
    instrument: str
    cutoff: int
    points: list[TrendPointOut]
    change: int | None
    latest_below_cutoff: bool | None

    @classmethod
    def of(cls, t: Trend) -> TrendOut:
        return cls(
            instrument=t.instrument_code,
            cutoff=t.cutoff,
            points=[
                TrendPointOut(
                    response_id=p.response_id,
                    completed_at=p.completed_at,
                    date=p.date,
                    total=p.total,
                    severity=p.band.value,
                )
                for p in t.points
            ],
            change=t.change,
            latest_below_cutoff=t.latest_below_cutoff,
        )


class AlertOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    instrument: str
    response_id: uuid.UUID
    created_at: datetime
    acknowledged_at: datetime | None

    @classmethod
    def of(cls, a: SafetyAlert) -> AlertOut:
        return cls(
            id=a.id,
            client_id=a.client_id,
            instrument=a.instrument_code,
            response_id=a.response_id,
            created_at=a.created_at,
            acknowledged_at=a.acknowledged_at,
        )


class Alerts(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class CrisisResourceIn(RequestModel):
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    text: str | None = Field(default=None, max_length=40)
    url: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=500)

    def to_domain(self) -> CrisisResource:
        return CrisisResource(
            name=self.name, phone=self.phone, text=self.text, url=self.url, description=self.description
        )


class CrisisResourcesIO(RequestModel):
    items: list[CrisisResourceIn] = Field(max_length=10, description="Empty restores the default (988 in the US)")


class CrisisResourcesOut(BaseModel):
    items: list[CrisisResourceOut]
