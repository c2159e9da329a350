"""Who may read and write progress notes. What a principal may not see is reported as not found.

* the treating therapist (the appointment's therapist, acting in its practice): reads and writes the note;
* a practice admin of the note's practice: reads progress notes (clinical oversight, audited), never writes;
* the client: reads no note, their own included (`NotFound`, so not even existence is revealed); they see
  their plan and its progress ratings instead;
* anyone else (another therapist of the practice, any principal of another practice): `NotFound`.

Psychotherapy notes follow a stricter rule (author only, admins never): see `domain.notes.psychotherapy`.
"""

from __future__ import annotations

from typing import TypeVar

from domain.plans.access import CareRecord, in_practice, is_treating_therapist
from domain.shared.errors import Forbidden, NotFound
from domain.shared.principal import Principal, Role

N = TypeVar("N", bound=CareRecord)


def can_read_progress_note(principal: Principal, note: CareRecord) -> bool:
    if principal.role is Role.PRACTICE_ADMIN:
        return in_practice(principal, note)
    return is_treating_therapist(principal, note)


def can_write_progress_note(principal: Principal, note: CareRecord) -> bool:
    """Also the rule for opening the note of an appointment (pass the appointment)."""
    return is_treating_therapist(principal, note)


def readable_note_or_404(principal: Principal, note: N | None) -> N:
    if note is None or not can_read_progress_note(principal, note):
        raise NotFound("No such note.")
    return note


def writable_note_or_404(principal: Principal, note: N | None) -> N:
    """`NotFound` unless readable; `Forbidden(code="note_read_only")` for a reader who may not write
    (a practice admin)."""
    readable = readable_note_or_404(principal, note)
    if not can_write_progress_note(principal, readable):
        raise Forbidden("Only the session's therapist writes its note.", code="note_read_only")
    return readable
