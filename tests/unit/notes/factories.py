"""Builders shared by the note unit tests."""

from __future__ import annotations

import uuid

from domain.notes.model import NoteDocument, ProgressNote, Template, new_note, sign
from domain.plans.model import GoalRating, ProgressRating
from tests.unit.plans.factories import CLIENT, GOAL_MOOD, GOAL_SLEEP, PRACTICE, THERAPIST, utc

NOTE_ID = uuid.UUID("00000000-0000-0000-0000-000000000401")
APPOINTMENT_ID = uuid.UUID("00000000-0000-0000-0000-000000000501")

SOAP = {
    "subjective": "Client reports sleeping better, mood 6/10.",
    "objective": "Alert, oriented, affect brighter than last week.",
    "assessment": "Depressive symptoms easing; PHQ-9 down to 11.",
    "plan": "Continue behavioural activation; review sleep diary next session.",
}

RATINGS = (
    GoalRating(GOAL_MOOD, ProgressRating.PROGRESSING, "More activities this week"),
    GoalRating(GOAL_SLEEP, ProgressRating.MAINTAINED),
)


def soap(**changes: str) -> NoteDocument:
    return NoteDocument.of(Template.SOAP, {**SOAP, **changes}, RATINGS)


def draft(document: NoteDocument | None = None) -> ProgressNote:
    return new_note(
        id=NOTE_ID,
        appointment_id=APPOINTMENT_ID,
        practice_id=PRACTICE,
        client_id=CLIENT,
        therapist_id=THERAPIST,
        document=soap() if document is None else document,
        created_at=utc(2026, 5, 4, 15),
    )


def signed(document: NoteDocument | None = None) -> ProgressNote:
    return sign(draft(document), signer_id=THERAPIST, at=utc(2026, 5, 4, 16))
