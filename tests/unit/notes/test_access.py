from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.notes.access import (
    can_read_progress_note,
    can_write_progress_note,
    readable_note_or_404,
    writable_note_or_404,
)
from domain.notes.model import ProgressNote
from domain.scheduling.model import Modality, new_appointment
from domain.shared.errors import Forbidden, NotFound
from domain.shared.principal import Principal, Role
from tests.unit.notes.factories import APPOINTMENT_ID, draft, signed
from tests.unit.plans.factories import (
    ADMIN,
    CLIENT,
    OTHER_CLIENT,
    OTHER_PRACTICE,
    OTHER_THERAPIST,
    PRACTICE,
    THERAPIST,
    principal,
    utc,
)

# (who, read, write)
MATRIX: list[tuple[str, Principal, bool, bool]] = [
    ("treating therapist", principal(Role.THERAPIST, THERAPIST), True, True),
    (
        "treating therapist acting in another practice",
        principal(Role.THERAPIST, THERAPIST, OTHER_PRACTICE),
        False,
        False,
    ),
    ("another therapist of the practice", principal(Role.THERAPIST, OTHER_THERAPIST), False, False),
    ("a therapist of another practice", principal(Role.THERAPIST, OTHER_THERAPIST, OTHER_PRACTICE), False, False),
    ("the client", principal(Role.CLIENT, CLIENT, None), False, False),
    ("the client with the practice on the token", principal(Role.CLIENT, CLIENT), False, False),
    ("another client", principal(Role.CLIENT, OTHER_CLIENT), False, False),
    ("admin of the practice", principal(Role.PRACTICE_ADMIN, ADMIN), True, False),
    ("admin of another practice", principal(Role.PRACTICE_ADMIN, ADMIN, OTHER_PRACTICE), False, False),
    ("admin without a practice", principal(Role.PRACTICE_ADMIN, ADMIN, None), False, False),
    ("the therapist's id with the client role", principal(Role.CLIENT, THERAPIST), False, False),
]
IDS = [row[0] for row in MATRIX]
NOTES = [draft, signed]


@pytest.mark.parametrize("make", NOTES, ids=["draft", "signed"])
@pytest.mark.parametrize(("who", "actor", "read", "write"), MATRIX, ids=IDS)
def test_the_policy_matrix(
    who: str, actor: Principal, read: bool, write: bool, make: Callable[[], ProgressNote]
) -> None:
    note = make()
    assert can_read_progress_note(actor, note) is read
    assert can_write_progress_note(actor, note) is write
    if read:
        assert readable_note_or_404(actor, note) is note
    else:
        with pytest.raises(NotFound):
            readable_note_or_404(actor, note)
    if write:
        assert writable_note_or_404(actor, note) is note
    elif read:
        with pytest.raises(Forbidden) as err:
            writable_note_or_404(actor, note)
        assert err.value.code == "note_read_only"
    else:
        with pytest.raises(NotFound):
            writable_note_or_404(actor, note)


def test_the_client_reads_no_note_not_even_their_own() -> None:
    for actor in (principal(Role.CLIENT, CLIENT, None), principal(Role.CLIENT, CLIENT)):
        for note in (draft(), signed()):
            assert note.client_id == actor.user_id
            with pytest.raises(NotFound):
                readable_note_or_404(actor, note)


@pytest.mark.parametrize(("who", "actor", "read", "write"), MATRIX, ids=IDS)
def test_a_missing_note_is_not_found(who: str, actor: Principal, read: bool, write: bool) -> None:
    missing: ProgressNote | None = None
    with pytest.raises(NotFound):
        readable_note_or_404(actor, missing)
    with pytest.raises(NotFound):
        writable_note_or_404(actor, missing)


def test_opening_a_note_follows_the_appointment() -> None:
    appointment = new_appointment(
        id=APPOINTMENT_ID,
        therapist_id=THERAPIST,
        client_id=CLIENT,
        practice_id=PRACTICE,
        start=utc(2026, 5, 4, 14),
        duration_minutes=50,
        modality=Modality.VIDEO,
        created_at=utc(2026, 5, 1),
    )
    allowed = [row[1] for row in MATRIX if can_write_progress_note(row[1], appointment)]
    assert allowed == [principal(Role.THERAPIST, THERAPIST)]
