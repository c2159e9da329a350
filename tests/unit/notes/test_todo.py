from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from domain.notes.model import CompletedSession, NoteState, NoteTodo, TodoReason, overdue_notes
from domain.shared.errors import ValidationFailed
from tests.unit.plans.factories import utc

A = uuid.UUID("00000000-0000-0000-0000-00000000a001")
B = uuid.UUID("00000000-0000-0000-0000-00000000a002")
C = uuid.UUID("00000000-0000-0000-0000-00000000a003")
ENDED = utc(2026, 5, 4, 15)
DUE = ENDED + timedelta(hours=72)


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (ENDED, False),
        (DUE - timedelta(seconds=1), False),
        (DUE, False),  # exactly 72 hours: not yet "more than"
        (DUE + timedelta(microseconds=1), True),
        (DUE + timedelta(days=30), True),
    ],
)
def test_the_72_hour_boundary(now: datetime, overdue: bool) -> None:
    sessions = [CompletedSession(A, ENDED)]
    missing = overdue_notes(sessions, {}, now=now)
    unsigned = overdue_notes(sessions, {A: NoteState.DRAFT}, now=now)
    assert bool(missing) is overdue
    assert bool(unsigned) is overdue
    if overdue:
        assert missing == (NoteTodo(A, ENDED, DUE, TodoReason.MISSING),)
        assert unsigned == (NoteTodo(A, ENDED, DUE, TodoReason.UNSIGNED),)


def test_signed_notes_are_never_on_the_list() -> None:
    assert overdue_notes([CompletedSession(A, ENDED)], {A: NoteState.SIGNED}, now=DUE + timedelta(days=365)) == ()


def test_the_list_mixes_reasons_and_is_oldest_first() -> None:
    now = utc(2026, 5, 20)
    sessions = [
        CompletedSession(C, utc(2026, 5, 10, 9)),
        CompletedSession(A, utc(2026, 5, 1, 9)),
        CompletedSession(B, utc(2026, 5, 5, 9)),
        CompletedSession(uuid.uuid4(), utc(2026, 5, 19, 9)),  # ended yesterday: not due yet
    ]
    states = {A: NoteState.DRAFT, B: NoteState.SIGNED}
    todo = overdue_notes(sessions, states, now=now)
    assert [(t.appointment_id, t.reason) for t in todo] == [(A, TodoReason.UNSIGNED), (C, TodoReason.MISSING)]
    assert todo[0].due_at == utc(2026, 5, 4, 9)


def test_the_window_is_a_parameter() -> None:
    sessions = [CompletedSession(A, ENDED)]
    assert overdue_notes(sessions, {}, now=ENDED + timedelta(hours=25), hours=24)
    assert not overdue_notes(sessions, {}, now=ENDED + timedelta(hours=25), hours=48)
    assert overdue_notes(sessions, {}, now=ENDED + timedelta(seconds=1), hours=0)


def test_instants_in_other_offsets_are_compared_as_instants() -> None:
    eastern = timezone(timedelta(hours=-4))
    ended_local = ENDED.astimezone(eastern)
    (todo,) = overdue_notes(
        [CompletedSession(A, ended_local)], {}, now=(DUE + timedelta(minutes=1)).astimezone(eastern)
    )
    assert todo.ended_at == ENDED
    assert todo.ended_at.utcoffset() == timedelta(0)
    assert not overdue_notes([CompletedSession(A, ended_local)], {}, now=DUE.astimezone(eastern))


@pytest.mark.parametrize("hours", [-1, True, 1.5])
def test_a_bad_window_is_refused(hours: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        overdue_notes([], {}, now=ENDED, hours=hours)  # type: ignore[arg-type]
    assert err.value.code == "invalid_note_due_hours"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        overdue_notes([], {}, now=datetime(2026, 5, 4))
    assert err.value.field == "now"
