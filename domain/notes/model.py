"""Progress notes: templates, drafts, signing, addenda, and the overdue-note to-do rule.

One progress note per completed appointment. A note is a `draft` (saved as often as the therapist likes, may be
partial) until its author signs it; signing requires every field of its template, records the signer, the
instant and a SHA-256 hash over a canonical serialisation of the note's identity and content, and locks it: any
later change of content is `Conflict(code="note_signed")`. After signing only addenda (dated, authored, text)
can be added; they never change the original or its hash.

The clinical content (`NoteDocument`: template fields and per-goal ratings) and each `Addendum` serialise to
versioned JSON-able dicts that the service encrypts; identity, state, version and signature are its columns
(the to-do list needs the state without decrypting anything).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from domain.plans import jsondoc as j
from domain.plans.model import GoalRating, ProgressRating, check_text, validate_ratings
from domain.scheduling.localtime import ensure_utc
from domain.scheduling.model import AppointmentStatus
from domain.shared.errors import Conflict, Forbidden, InvalidState, StaleVersion, ValidationFailed

MAX_FIELD = 20_000  # one structured field (SOAP "subjective", ...)
MAX_FREE_TEXT = 50_000  # the single field of a free note
MAX_ADDENDUM = 10_000
MAX_ADDENDA = 50
NOTE_DOCUMENT_VERSION = 1
ADDENDUM_DOCUMENT_VERSION = 1
HASH_FORMAT = "hearth.progress_note.v1"
NOTE_DUE_HOURS = 72


class Template(StrEnum):
    SOAP = "soap"
    DAP = "dap"
    BIRP = "birp"
    FREE = "free"


# The structured fields of each template, in display order. Every one is required to sign.
TEMPLATE_FIELDS: Mapping[Template, tuple[str, ...]] = MappingProxyType(
    {
        Template.SOAP: ("subjective", "objective", "assessment", "plan"),
        Template.DAP: ("data", "assessment", "plan"),
        Template.BIRP: ("behavior", "intervention", "response", "plan"),
        Template.FREE: ("text",),
    }
)


class NoteState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


def _bad(detail: str, field: str | None = None, code: str = "invalid_note") -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field)


def _field_limit(template: Template) -> int:
    return MAX_FREE_TEXT if template is Template.FREE else MAX_FIELD


@dataclass(frozen=True, slots=True)
class NoteDocument:
    """A note's clinical content: the fields of its template and its per-goal ratings.

    `fields` always holds exactly the template's field names (missing ones become ""), in template order, as a
    read-only mapping. Use `NoteDocument.of(template, {...})` to build one; unknown field names are refused.
    """

    template: Template
    fields: Mapping[str, str] = dataclass_field(default_factory=dict)
    ratings: tuple[GoalRating, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.template, Template):
            raise _bad("template is one of soap, dap, birp, free.", "template")
        if not isinstance(self.fields, Mapping):
            raise _bad("fields must be a mapping of field name to text.", "fields")
        names = TEMPLATE_FIELDS[self.template]
        unknown = sorted(str(k) for k in self.fields if k not in names)
        if unknown:
            raise _bad(
                f"A {self.template.value} note has no field {', '.join(unknown)} (it has {', '.join(names)}).",
                f"fields.{unknown[0]}",
            )
        normalised = {name: self.fields.get(name, "") for name in names}
        object.__setattr__(self, "fields", MappingProxyType(normalised))

    @classmethod
    def of(
        cls, template: Template, fields: Mapping[str, str] | None = None, ratings: Iterable[GoalRating] = ()
    ) -> NoteDocument:
        return cls(template=template, fields=dict(fields or {}), ratings=tuple(ratings))

    def __hash__(self) -> int:
        return hash((self.template, tuple(self.fields.items()), self.ratings))

    def missing_fields(self) -> tuple[str, ...]:
        """Template fields that are blank (what stops signing)."""
        return tuple(name for name, text in self.fields.items() if not isinstance(text, str) or not text.strip())

    def to_dict(self) -> j.JsonObject:
        return {
            "v": NOTE_DOCUMENT_VERSION,
            "template": self.template.value,
            "fields": dict(self.fields),
            "ratings": [
                {"goal_id": j.dump_uuid(r.goal_id), "rating": r.rating.value, "comment": r.comment}
                for r in self.ratings
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> NoteDocument:
        """Parse and validate as a draft. `fields` must name exactly the template's fields. Raises
        `DocumentError` (`invalid_document`) for another shape, `ValidationFailed` (`invalid_note`) for
        content out of bounds."""
        d = j.versioned(data, "", ("template", "fields", "ratings"), version=NOTE_DOCUMENT_VERSION)
        template = j.choice(d["template"], Template, "template")
        raw_fields = j.obj(d["fields"], "fields", TEMPLATE_FIELDS[template])
        ratings: list[GoalRating] = []
        for n, item in enumerate(j.array(d["ratings"], "ratings")):
            path = f"ratings[{n}]"
            r = j.obj(item, path, ("goal_id", "rating", "comment"))
            ratings.append(
                GoalRating(
                    goal_id=j.uid(r["goal_id"], f"{path}.goal_id"),
                    rating=j.choice(r["rating"], ProgressRating, f"{path}.rating"),
                    comment=j.string(r["comment"], f"{path}.comment"),
                )
            )
        document = cls(
            template=template,
            fields={name: j.string(raw_fields[name], f"fields.{name}") for name in TEMPLATE_FIELDS[template]},
            ratings=tuple(ratings),
        )
        validate_document(document)
        return document


def validate_document(document: NoteDocument, *, for_signing: bool = False) -> None:
    """Bounded sizes and well-formed ratings (`invalid_note`); with `for_signing`, every template field filled
    (`ValidationFailed(code="note_incomplete", field=<first blank field>)`). A draft may be partial."""
    limit = _field_limit(document.template)
    for name, text in document.fields.items():
        check_text(text, field=f"fields.{name}", max_len=limit, code="invalid_note", required=False)
    validate_ratings(document.ratings, code="invalid_note")
    if for_signing:
        missing = document.missing_fields()
        if missing:
            raise _bad(f"Fill in {', '.join(missing)} before signing.", f"fields.{missing[0]}", "note_incomplete")


# ---------------------------------------------------------------------------------------------- addenda


@dataclass(frozen=True, slots=True)
class Addendum:
    id: uuid.UUID
    author_id: uuid.UUID
    written_at: datetime
    text: str

    def to_dict(self) -> j.JsonObject:
        return {
            "v": ADDENDUM_DOCUMENT_VERSION,
            "id": j.dump_uuid(self.id),
            "author_id": j.dump_uuid(self.author_id),
            "written_at": j.dump_instant(self.written_at),
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: object) -> Addendum:
        d = j.versioned(data, "", ("id", "author_id", "written_at", "text"), version=ADDENDUM_DOCUMENT_VERSION)
        addendum = cls(
            id=j.uid(d["id"], "id"),
            author_id=j.uid(d["author_id"], "author_id"),
            written_at=j.instant(d["written_at"], "written_at"),
            text=j.string(d["text"], "text"),
        )
        check_text(addendum.text, field="text", max_len=MAX_ADDENDUM, code="invalid_note")
        return addendum


# ---------------------------------------------------------------------------------------------- the note


@dataclass(frozen=True, slots=True)
class Signature:
    signer_id: uuid.UUID
    signed_at: datetime
    content_hash: str  # SHA-256, lower-case hex, see `content_hash`


@dataclass(frozen=True, slots=True)
class ProgressNote:
    """The progress note of one appointment, written by the appointment's therapist."""

    id: uuid.UUID
    appointment_id: uuid.UUID
    practice_id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID  # the treating therapist of the appointment: the note's author
    document: NoteDocument
    created_at: datetime
    updated_at: datetime
    state: NoteState = NoteState.DRAFT
    version: int = 1
    signature: Signature | None = None
    addenda: tuple[Addendum, ...] = ()

    @property
    def is_signed(self) -> bool:
        return self.state is NoteState.SIGNED


def content_hash(
    *,
    note_id: uuid.UUID,
    appointment_id: uuid.UUID,
    client_id: uuid.UUID,
    therapist_id: uuid.UUID,
    document: NoteDocument,
) -> str:
    """SHA-256 (hex) of the canonical JSON (sorted keys, no whitespace, UTF-8) of the note's identity and
    content. Addenda, signer and signing time are outside it: they are recorded beside the hash."""
    return j.sha256_hex(
        {
            "format": HASH_FORMAT,
            "note_id": j.dump_uuid(note_id),
            "appointment_id": j.dump_uuid(appointment_id),
            "client_id": j.dump_uuid(client_id),
            "therapist_id": j.dump_uuid(therapist_id),
            "document": document.to_dict(),
        }
    )


def hash_of(note: ProgressNote) -> str:
    return content_hash(
        note_id=note.id,
        appointment_id=note.appointment_id,
        client_id=note.client_id,
        therapist_id=note.therapist_id,
        document=note.document,
    )


def verify_signature(note: ProgressNote) -> bool:
    """True when the note is signed and its content still hashes to the recorded hash."""
    if note.state is not NoteState.SIGNED or note.signature is None:
        return False
    return hmac.compare_digest(hash_of(note), note.signature.content_hash)


def ensure_note_allowed(appointment_status: AppointmentStatus, existing: ProgressNote | None) -> None:
    """A note is opened for a completed appointment that has none yet: `InvalidState(code=
    "session_not_completed")`, `Conflict(code="note_exists")`."""
    if appointment_status is not AppointmentStatus.COMPLETED:
        raise InvalidState("A note is written for a completed session.", code="session_not_completed")
    if existing is not None:
        raise Conflict("This session already has a note.", code="note_exists")


def ensure_editable(note: ProgressNote) -> None:
    """`Conflict(code="note_signed")` once the note is signed."""
    if note.state is NoteState.SIGNED:
        raise Conflict("The note is signed; add an addendum instead.", code="note_signed")


def new_note(
    *,
    id: uuid.UUID,
    appointment_id: uuid.UUID,
    practice_id: uuid.UUID,
    client_id: uuid.UUID,
    therapist_id: uuid.UUID,
    document: NoteDocument,
    created_at: datetime,
) -> ProgressNote:
    """A draft (version 1). Its content may be partial."""
    validate_document(document)
    at = ensure_utc(created_at, field="created_at")
    return ProgressNote(
        id=id,
        appointment_id=appointment_id,
        practice_id=practice_id,
        client_id=client_id,
        therapist_id=therapist_id,
        document=document,
        created_at=at,
        updated_at=at,
    )


def _check_version(note: ProgressNote, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != note.version:
        raise StaleVersion(f"The note is at version {note.version}; reload it and apply your change again.")


def save_draft(note: ProgressNote, document: NoteDocument, *, expected_version: int, at: datetime) -> ProgressNote:
    """Replace a draft's content (the template may change while drafting). `Conflict(note_signed)` on a signed
    note (checked first: no version makes a signed note editable), `StaleVersion` for an outdated copy.
    Unchanged content returns the same note (autosave retries are free)."""
    ensure_editable(note)
    _check_version(note, expected_version)
    validate_document(document)
    if document == note.document:
        return note
    return replace(note, document=document, version=note.version + 1, updated_at=ensure_utc(at, field="at"))


def sign(
    note: ProgressNote, *, signer_id: uuid.UUID, at: datetime, expected_version: int | None = None
) -> ProgressNote:
    """Lock the note: every template field must be filled (`note_incomplete`); only its author signs
    (`Forbidden(code="not_note_author")`); a signed note cannot be signed again (`note_signed`)."""
    ensure_editable(note)
    if signer_id != note.therapist_id:
        raise Forbidden("Only the note's author can sign it.", code="not_note_author")
    _check_version(note, expected_version)
    validate_document(note.document, for_signing=True)
    signed_at = ensure_utc(at, field="at")
    if signed_at < note.created_at:
        raise _bad("A note cannot be signed before it was written.", "at")
    return replace(
        note,
        state=NoteState.SIGNED,
        version=note.version + 1,
        updated_at=signed_at,
        signature=Signature(signer_id=signer_id, signed_at=signed_at, content_hash=hash_of(note)),
    )


def add_addendum(note: ProgressNote, *, id: uuid.UUID, author_id: uuid.UUID, text: str, at: datetime) -> ProgressNote:
    """Append a dated addendum to a signed note (`InvalidState(code="note_not_signed")` on a draft: edit the
    draft instead). Only the note's author adds addenda. Retrying with the same id and text returns the note
    unchanged; the same id with other content is `Conflict(code="addendum_exists")`."""
    if note.state is not NoteState.SIGNED or note.signature is None:
        raise InvalidState("Addenda are added to signed notes; edit the draft instead.", code="note_not_signed")
    if author_id != note.therapist_id:
        raise Forbidden("Only the note's author can add an addendum.", code="not_note_author")
    written_at = ensure_utc(at, field="at")
    addendum = Addendum(id=id, author_id=author_id, written_at=written_at, text=text)
    for existing in note.addenda:
        if existing.id == id:
            if existing.author_id == author_id and existing.text == text:
                return note
            raise Conflict("An addendum with this id already exists.", code="addendum_exists")
    check_text(text, field="text", max_len=MAX_ADDENDUM, code="invalid_note")
    if len(note.addenda) >= MAX_ADDENDA:
        raise _bad(f"A note has at most {MAX_ADDENDA} addenda.", "addenda")
    if written_at < note.signature.signed_at:
        raise _bad("An addendum is dated after the note was signed.", "at")
    return replace(note, addenda=(*note.addenda, addendum), version=note.version + 1, updated_at=written_at)


# ---------------------------------------------------------------------------------------------- to-do


class TodoReason(StrEnum):
    MISSING = "missing"  # no note at all
    UNSIGNED = "unsigned"  # a draft that was never signed


@dataclass(frozen=True, slots=True)
class CompletedSession:
    appointment_id: uuid.UUID
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class NoteTodo:
    appointment_id: uuid.UUID
    ended_at: datetime
    due_at: datetime
    reason: TodoReason


def overdue_notes(
    sessions: Iterable[CompletedSession],
    note_states: Mapping[uuid.UUID, NoteState],
    *,
    now: datetime,
    hours: int = NOTE_DUE_HOURS,
) -> tuple[NoteTodo, ...]:
    """Completed sessions whose note is missing or unsigned more than `hours` after the session ended
    (`now > ended_at + hours`; exactly at the deadline is not yet overdue), oldest first. `note_states` maps
    appointment id -> the state of its note; an appointment absent from it has no note."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise ValidationFailed("hours is a non-negative integer.", code="invalid_note_due_hours", field="hours")
    moment = ensure_utc(now, field="now")
    window = timedelta(hours=hours)
    todos: list[NoteTodo] = []
    for session in sessions:
        ended = ensure_utc(session.ended_at, field="ended_at")
        due = ended + window
        if moment <= due:
            continue
        state = note_states.get(session.appointment_id)
        if state is NoteState.SIGNED:
            continue
        reason = TodoReason.MISSING if state is None else TodoReason.UNSIGNED
        todos.append(NoteTodo(session.appointment_id, ended, due, reason))
    todos.sort(key=lambda t: (t.ended_at, str(t.appointment_id)))
    return tuple(todos)
