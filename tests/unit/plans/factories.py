"""Builders shared by the plan and note unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from domain.plans.model import (
    Comparison,
    Goal,
    Intervention,
    ItemStatus,
    Objective,
    PlanDocument,
    ScoreTarget,
    TherapyPlan,
    new_plan,
)
from domain.shared.principal import Principal, Role

PRACTICE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
OTHER_PRACTICE = uuid.UUID("00000000-0000-0000-0000-0000000000b2")
THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a2")
CLIENT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
OTHER_CLIENT = uuid.UUID("00000000-0000-0000-0000-0000000000c2")
ADMIN = uuid.UUID("00000000-0000-0000-0000-0000000000d1")
PLAN_ID = uuid.UUID("00000000-0000-0000-0000-0000000000e1")

GOAL_MOOD = uuid.UUID("00000000-0000-0000-0000-000000000101")
GOAL_SLEEP = uuid.UUID("00000000-0000-0000-0000-000000000102")
OBJ_PHQ = uuid.UUID("00000000-0000-0000-0000-000000000201")
OBJ_ACTIVITY = uuid.UUID("00000000-0000-0000-0000-000000000202")
OBJ_SLEEP = uuid.UUID("00000000-0000-0000-0000-000000000203")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def principal(role: Role, user_id: uuid.UUID, practice_id: uuid.UUID | None = PRACTICE) -> Principal:
    return Principal(user_id=user_id, role=role, practice_id=practice_id)


def phq_objective(status: ItemStatus = ItemStatus.NOT_STARTED, value: int = 10) -> Objective:
    return Objective(
        id=OBJ_PHQ,
        text="PHQ-9 total in the mild range",
        status=status,
        target_date=date(2026, 9, 1),
        score_target=ScoreTarget("phq9", Comparison.LT, value),
    )


def document(
    *,
    mood_status: ItemStatus = ItemStatus.IN_PROGRESS,
    sleep_status: ItemStatus = ItemStatus.NOT_STARTED,
    phq_status: ItemStatus = ItemStatus.NOT_STARTED,
) -> PlanDocument:
    return PlanDocument(
        problems=("Low mood since job loss", "Poor sleep"),
        goals=(
            Goal(
                id=GOAL_MOOD,
                text="Reduce depressive symptoms",
                status=mood_status,
                target_date=date(2026, 10, 1),
                objectives=(
                    phq_objective(phq_status),
                    Objective(id=OBJ_ACTIVITY, text="Three pleasant activities a week"),
                ),
            ),
            Goal(
                id=GOAL_SLEEP,
                text="Sleep seven hours most nights",
                status=sleep_status,
                objectives=(Objective(id=OBJ_SLEEP, text="Keep a sleep diary"),),
            ),
        ),
        interventions=(Intervention("Behavioural activation", "weekly"), Intervention("Sleep hygiene education")),
        review_date=date(2026, 8, 1),
    )


def plan(doc: PlanDocument | None = None) -> TherapyPlan:
    return new_plan(
        id=PLAN_ID,
        practice_id=PRACTICE,
        therapist_id=THERAPIST,
        client_id=CLIENT,
        document=document() if doc is None else doc,
        created_at=utc(2026, 5, 4, 15),
    )
