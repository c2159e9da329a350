from __future__ import annotations

import uuid

import pytest

from domain.notes.psychotherapy import (
    MAX_PSYCHOTHERAPY_TEXT,
    PsychotherapyDocument,
    PsychotherapyNote,
    can_access_psychotherapy_note,
    edit_psychotherapy_note,
    new_psychotherapy_note,
    psychotherapy_note_or_404,
)
from domain.shared.errors import DomainError, NotFound, StaleVersion, ValidationFailed
from domain.shared.principal import Principal, Role
from tests.unit.notes.factories import APPOINTMENT_ID
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

NOTE = uuid.UUID("00000000-0000-0000-0000-000000000701")
AUTHOR = principal(Role.THERAPIST, THERAPIST)


def note() -> PsychotherapyNote:
    return new_psychotherapy_note(
        id=NOTE,
        author=AUTHOR,
        client_id=CLIENT,
        appointment_id=APPOINTMENT_ID,
        document=PsychotherapyDocument("Felt stuck when the client mentioned her father."),
        created_at=utc(2026, 5, 4, 16),
    )


OUTSIDERS: list[tuple[str, Principal]] = [
    ("another therapist of the practice", principal(Role.THERAPIST, OTHER_THERAPIST)),
    ("a therapist of another practice", principal(Role.THERAPIST, OTHER_THERAPIST, OTHER_PRACTICE)),
    ("the author acting in another practice", principal(Role.THERAPIST, THERAPIST, OTHER_PRACTICE)),
    ("the author without a practice", principal(Role.THERAPIST, THERAPIST, None)),
    ("the client", principal(Role.CLIENT, CLIENT, None)),
    ("the client with the practice on the token", principal(Role.CLIENT, CLIENT)),
    ("another client", principal(Role.CLIENT, OTHER_CLIENT)),
    ("admin of the practice", principal(Role.PRACTICE_ADMIN, ADMIN)),
    ("admin of another practice", principal(Role.PRACTICE_ADMIN, ADMIN, OTHER_PRACTICE)),
    ("the author's id as an admin", principal(Role.PRACTICE_ADMIN, THERAPIST)),
    ("the author's id as a client", principal(Role.CLIENT, THERAPIST)),
]


def test_the_author_and_practice_come_from_the_principal() -> None:
    n = note()
    assert (n.author_id, n.practice_id, n.client_id, n.appointment_id) == (THERAPIST, PRACTICE, CLIENT, APPOINTMENT_ID)
    assert n.version == 1
    assert n.created_at == n.updated_at == utc(2026, 5, 4, 16)


def test_a_note_can_be_about_a_client_without_an_appointment() -> None:
    n = new_psychotherapy_note(
        id=NOTE, author=AUTHOR, client_id=CLIENT, document=PsychotherapyDocument("x"), created_at=utc(2026, 5, 4)
    )
    assert n.appointment_id is None


def test_the_author_reads_and_writes() -> None:
    n = note()
    assert can_access_psychotherapy_note(AUTHOR, n)
    assert psychotherapy_note_or_404(AUTHOR, n) is n
    edited = edit_psychotherapy_note(
        AUTHOR, n, PsychotherapyDocument("Rethought."), expected_version=1, at=utc(2026, 5, 5)
    )
    assert edited.document.text == "Rethought."
    assert (edited.version, edited.updated_at) == (2, utc(2026, 5, 5))
    assert n.document.text.startswith("Felt stuck")


@pytest.mark.parametrize(("who", "actor"), OUTSIDERS, ids=[w for w, _ in OUTSIDERS])
def test_everyone_else_gets_not_found(who: str, actor: Principal) -> None:
    n = note()
    assert not can_access_psychotherapy_note(actor, n)
    with pytest.raises(NotFound) as err:
        psychotherapy_note_or_404(actor, n)
    assert type(err.value) is NotFound
    with pytest.raises(NotFound):
        edit_psychotherapy_note(actor, n, PsychotherapyDocument("overwrite"), expected_version=1, at=utc(2026, 5, 5))


@pytest.mark.parametrize(("who", "actor"), [("author", AUTHOR), *OUTSIDERS], ids=["author", *[w for w, _ in OUTSIDERS]])
def test_a_missing_note_and_a_hidden_note_look_the_same(who: str, actor: Principal) -> None:
    with pytest.raises(NotFound) as missing:
        psychotherapy_note_or_404(actor, None)
    if actor is AUTHOR:
        return
    with pytest.raises(NotFound) as hidden:
        psychotherapy_note_or_404(actor, note())
    assert (missing.value.code, missing.value.detail) == (hidden.value.code, hidden.value.detail)


@pytest.mark.parametrize(
    "actor",
    [
        principal(Role.CLIENT, CLIENT),
        principal(Role.PRACTICE_ADMIN, ADMIN),
        principal(Role.THERAPIST, THERAPIST, None),
        principal(Role.THERAPIST, CLIENT),  # a therapist cannot write one about themselves
    ],
)
def test_only_a_therapist_of_a_practice_writes_one(actor: Principal) -> None:
    with pytest.raises(NotFound):
        new_psychotherapy_note(
            id=NOTE, author=actor, client_id=CLIENT, document=PsychotherapyDocument("x"), created_at=utc(2026, 5, 4)
        )


@pytest.mark.parametrize("text", ["", " \n", "x" * (MAX_PSYCHOTHERAPY_TEXT + 1), "nul\x00"])
def test_text_is_bounded(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        new_psychotherapy_note(
            id=NOTE, author=AUTHOR, client_id=CLIENT, document=PsychotherapyDocument(text), created_at=utc(2026, 5, 4)
        )
    assert err.value.code == "invalid_note"
    assert err.value.field == "text"


def test_an_outdated_edit_is_stale_and_an_unchanged_one_is_free() -> None:
    n = note()
    edited = edit_psychotherapy_note(AUTHOR, n, PsychotherapyDocument("v2"), expected_version=1, at=utc(2026, 5, 5))
    with pytest.raises(StaleVersion):
        edit_psychotherapy_note(AUTHOR, edited, PsychotherapyDocument("v3"), expected_version=1, at=utc(2026, 5, 6))
    assert (
        edit_psychotherapy_note(AUTHOR, edited, PsychotherapyDocument("v2"), expected_version=2, at=utc(2026, 5, 6))
        is edited
    )


def test_access_is_checked_before_anything_else() -> None:
    # An outsider with a stale version and invalid text still learns nothing but "not found".
    with pytest.raises(DomainError) as err:
        edit_psychotherapy_note(
            principal(Role.PRACTICE_ADMIN, ADMIN),
            note(),
            PsychotherapyDocument(""),
            expected_version=9,
            at=utc(2026, 5, 5),
        )
    assert type(err.value) is NotFound
