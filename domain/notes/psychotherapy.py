"""Psychotherapy (process) notes: the therapist's private notes, kept apart from progress notes.

They have their own records and their own keys, and only their author can read or write them: not the client,
not a practice admin, not another therapist, not an integrator, not an export. Whoever else asks is told the
note does not exist (`NotFound`, never `Forbidden`), so even its existence is not revealed. They carry no
signature and no state: the author may edit them at any time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from domain.plans import jsondoc as j
from domain.plans.model import check_text
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import NotFound, StaleVersion
from domain.shared.principal import Principal, Role

MAX_PSYCHOTHERAPY_TEXT = 50_000
PSYCHOTHERAPY_DOCUMENT_VERSION = 1


@dataclass(frozen=True, slots=True)
class PsychotherapyDocument:
    """The encrypted content of a psychotherapy note."""

    text: str

    def to_dict(self) -> j.JsonObject:
        return {"v": PSYCHOTHERAPY_DOCUMENT_VERSION, "text": self.text}

    @classmethod
    def from_dict(cls, data: object) -> PsychotherapyDocument:
        d = j.versioned(data, "", ("text",), version=PSYCHOTHERAPY_DOCUMENT_VERSION)
        document = cls(text=j.string(d["text"], "text"))
        validate_psychotherapy_document(document)
        return document


def validate_psychotherapy_document(document: PsychotherapyDocument) -> None:
    """Non-blank text of at most `MAX_PSYCHOTHERAPY_TEXT` characters (`invalid_note`, field `text`)."""
    check_text(document.text, field="text", max_len=MAX_PSYCHOTHERAPY_TEXT, code="invalid_note")


@dataclass(frozen=True, slots=True)
class PsychotherapyNote:
    id: uuid.UUID
    practice_id: uuid.UUID
    author_id: uuid.UUID
    client_id: uuid.UUID
    appointment_id: uuid.UUID | None  # the session it is about, if any
    document: PsychotherapyDocument
    created_at: datetime
    updated_at: datetime
    version: int = 1


# ---------------------------------------------------------------------------------------------- access


def can_access_psychotherapy_note(principal: Principal, note: PsychotherapyNote) -> bool:
    """Read and write are the same right: the author, acting as a therapist of the note's practice."""
    return (
        principal.role is Role.THERAPIST
        and principal.user_id == note.author_id
        and principal.practice_id is not None
        and principal.practice_id == note.practice_id
    )


def psychotherapy_note_or_404(principal: Principal, note: PsychotherapyNote | None) -> PsychotherapyNote:
    """The note for its author; `NotFound` for everyone else and for a note that does not exist (the two are
    indistinguishable)."""
    if note is None or not can_access_psychotherapy_note(principal, note):
        raise NotFound("No such psychotherapy note.")
    return note


# ---------------------------------------------------------------------------------------------- operations


def new_psychotherapy_note(
    *,
    id: uuid.UUID,
    author: Principal,
    client_id: uuid.UUID,
    document: PsychotherapyDocument,
    created_at: datetime,
    appointment_id: uuid.UUID | None = None,
) -> PsychotherapyNote:
    """A note whose author and practice are the acting principal (so it cannot be written in someone else's
    name). Only a therapist of a practice writes one; anyone else gets `NotFound` like every other route here.
    Whether the therapist treats `client_id` is the service's check."""
    if author.role is not Role.THERAPIST or author.practice_id is None or author.user_id == client_id:
        raise NotFound("No such client.")
    validate_psychotherapy_document(document)
    at = ensure_utc(created_at, field="created_at")
    return PsychotherapyNote(
        id=id,
        practice_id=author.practice_id,
        author_id=author.user_id,
        client_id=client_id,
        appointment_id=appointment_id,
        document=document,
        created_at=at,
        updated_at=at,
    )


def edit_psychotherapy_note(
    principal: Principal,
    note: PsychotherapyNote,
    document: PsychotherapyDocument,
    *,
    expected_version: int,
    at: datetime,
) -> PsychotherapyNote:
    """The author replaces the text. Others get `NotFound`; an outdated copy gets `StaleVersion`; unchanged
    text returns the same note."""
    psychotherapy_note_or_404(principal, note)
    if expected_version != note.version:
        raise StaleVersion(f"The note is at version {note.version}; reload it and apply your change again.")
    validate_psychotherapy_document(document)
    if document == note.document:
        return note
    return replace(note, document=document, version=note.version + 1, updated_at=ensure_utc(at, field="at"))
