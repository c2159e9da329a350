"""Progress notes (draft, sign, addenda, the overdue list) and psychotherapy notes (author-only), sealed per
note and audited on every read and write."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from domain.audit.events import AuditEvent, event_by
from domain.notes.access import readable_note_or_404, writable_note_or_404
from domain.notes.model import (
    Addendum,
    NoteDocument,
    NoteTodo,
    ProgressNote,
    Signature,
    add_addendum,
    ensure_note_allowed,
    new_note,
    overdue_notes,
    save_draft,
    sign,
)
from domain.notes.ports import AddendumRow, NoteRow, NotesUnitOfWork, PsychotherapyRow
from domain.notes.psychotherapy import (
    PsychotherapyDocument,
    PsychotherapyNote,
    edit_psychotherapy_note,
    new_psychotherapy_note,
    psychotherapy_note_or_404,
)
from domain.plans.service import PlansService
from domain.scheduling.access import visible_or_404
from domain.shared.cipher import AadContext, PayloadCipher, WrappedDataKey
from domain.shared.data_keys import data_key, new_data_key
from domain.shared.errors import NotFound
from domain.shared.paging import After, Page
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role


def _note_aad(note_id: uuid.UUID) -> AadContext:
    return AadContext.of("session_notes", note_id, "body")


def _addendum_aad(addendum_id: uuid.UUID, note_id: uuid.UUID) -> AadContext:
    return AadContext.of("note_addenda", addendum_id, "body", note=note_id)


def _psychotherapy_aad(note_id: uuid.UUID, author_id: uuid.UUID) -> AadContext:
    return AadContext.of("psychotherapy_notes", note_id, "body", author=author_id)


class NotesService:
    def __init__(
        self,
        uow: Callable[[], NotesUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        plans: PlansService,
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._plans = plans

    # ------------------------------------------------------------------------------ progress notes

    async def get(self, principal: Principal, appointment_id: uuid.UUID) -> ProgressNote:
        async with self._uow() as uow:
            row = await uow.notes.for_appointment(appointment_id)
            note = readable_note_or_404(principal, await self._load(uow, row) if row else None)
            await uow.audit.append(self._event(principal, "note.read", "session_note", note.id))
            await uow.commit()
        return note

    async def save(
        self, principal: Principal, appointment_id: uuid.UUID, document: NoteDocument, *, expected_version: int
    ) -> ProgressNote:
        """Create the draft (expected_version 0) or save it again (autosave); a signed note is `note_signed`."""
        now = self._clock.now()
        async with self._uow() as uow:
            row = await uow.notes.for_appointment(appointment_id, for_update=True)
            if row is None:
                appointment = visible_or_404(principal, await uow.appointments.get(appointment_id))
                if principal.role is not Role.THERAPIST or appointment.therapist_id != principal.user_id:
                    raise NotFound("No such appointment.")
                ensure_note_allowed(appointment.status, None)
                note = new_note(
                    id=self._ids.new(),
                    appointment_id=appointment.id,
                    practice_id=appointment.practice_id,
                    client_id=appointment.client_id,
                    therapist_id=appointment.therapist_id,
                    document=document,
                    created_at=now,
                )
                key_id, key = await new_data_key(uow, self._cipher, self._ids.new, now)
                await uow.notes.add(self._row(note, key_id, self._seal_note(note, key)))
            else:
                current = writable_note_or_404(principal, await self._load(uow, row))
                note = save_draft(current, document, expected_version=expected_version, at=now)
                if note is current:
                    return current
                key = await data_key(uow, row.data_key_id)
                await uow.notes.save(self._row(note, row.data_key_id, self._seal_note(note, key)))
            await uow.audit.append(self._event(principal, "note.write", "session_note", note.id))
            await uow.commit()
        return note

    async def sign(self, principal: Principal, note_id: uuid.UUID, expected_version: int | None) -> ProgressNote:
        now = self._clock.now()
        async with self._uow() as uow:
            row = await uow.notes.get(note_id, for_update=True)
            current = writable_note_or_404(principal, await self._load(uow, row) if row else None)
            assert row is not None
            signed = sign(current, signer_id=principal.user_id, at=now, expected_version=expected_version)
            appointment = await uow.appointments.get(signed.appointment_id)
            session_day = (appointment.start if appointment else now).date()
            await self._plans.record_progress_in(
                uow,
                signed.client_id,
                signed.therapist_id,
                signed.document.ratings,
                note_id=signed.id,
                on=session_day,
                at=now,
            )
            await uow.notes.save(self._row(signed, row.data_key_id, row.body))
            await uow.audit.append(self._event(principal, "note.sign", "session_note", signed.id))
            await uow.commit()
        return signed

    async def add_addendum(self, principal: Principal, note_id: uuid.UUID, text: str) -> ProgressNote:
        now = self._clock.now()
        async with self._uow() as uow:
            row = await uow.notes.get(note_id, for_update=True)
            current = writable_note_or_404(principal, await self._load(uow, row) if row else None)
            assert row is not None
            addendum_id = self._ids.new()
            updated = add_addendum(current, id=addendum_id, author_id=principal.user_id, text=text, at=now)
            added = next(a for a in updated.addenda if a.id == addendum_id)
            key = await data_key(uow, row.data_key_id)
            sealed = self._cipher.seal(json.dumps(added.to_dict()), key, _addendum_aad(added.id, note_id))
            await uow.notes.add_addendum(AddendumRow(added.id, note_id, principal.user_id, now, sealed))
            await uow.audit.append(self._event(principal, "note.addendum", "session_note", note_id))
            await uow.commit()
        return updated

    async def todo(
        self, principal: Principal, hours: int = 72, *, after: After = None, limit: int = 50
    ) -> Page[NoteTodo]:
        """Completed sessions of the past year of the therapist whose note is missing or unsigned after `hours`,
        oldest end first by (end, appointment id), after `after`."""
        if principal.role is not Role.THERAPIST:
            return Page([], more=False)
        now = self._clock.now()
        async with self._uow() as uow:
            rows = await uow.notes.unsigned_sessions(
                principal.user_id,
                started_from=now - timedelta(days=365),
                ended_before=now - timedelta(hours=hours),
                after=after,
                limit=limit + 1,
            )
        page = Page.of(rows, limit)
        states = {session.appointment_id: state for session, state in page.items if state is not None}
        todos = overdue_notes([session for session, _ in page.items], states, now=now, hours=hours)
        return Page(list(todos), page.more)

    async def _load(self, uow: NotesUnitOfWork, row: NoteRow | None) -> ProgressNote | None:
        if row is None:
            return None
        key = await data_key(uow, row.data_key_id)
        document = NoteDocument.from_dict(json.loads(self._cipher.open(row.body, key, _note_aad(row.id))))
        addenda = tuple(
            Addendum.from_dict(json.loads(self._cipher.open(a.body, key, _addendum_aad(a.id, row.id))))
            for a in await uow.notes.addenda(row.id)
        )
        signature = (
            Signature(row.signed_by, row.signed_at, row.content_hash)
            if row.signed_by and row.signed_at and row.content_hash
            else None
        )
        return ProgressNote(
            id=row.id,
            appointment_id=row.appointment_id,
            practice_id=row.practice_id,
            client_id=row.client_id,
            therapist_id=row.therapist_id,
            document=document,
            created_at=row.created_at,
            updated_at=row.updated_at,
            state=row.state,
            version=row.version,
            signature=signature,
            addenda=addenda,
        )

    def _seal_note(self, note: ProgressNote, key: WrappedDataKey) -> bytes:
        return self._cipher.seal(json.dumps(note.document.to_dict()), key, _note_aad(note.id))

    @staticmethod
    def _row(note: ProgressNote, key_id: uuid.UUID, body: bytes) -> NoteRow:
        s = note.signature
        return NoteRow(
            id=note.id,
            appointment_id=note.appointment_id,
            practice_id=note.practice_id,
            client_id=note.client_id,
            therapist_id=note.therapist_id,
            data_key_id=key_id,
            template=note.document.template,
            state=note.state,
            body=body,
            content_hash=s.content_hash if s else None,
            signed_by=s.signer_id if s else None,
            signed_at=s.signed_at if s else None,
            version=note.version,
            created_at=note.created_at,
            updated_at=note.updated_at,
        )

    # ------------------------------------------------------------------------------ psychotherapy notes

    async def write_psychotherapy(
        self, principal: Principal, client_id: uuid.UUID, text: str, appointment_id: uuid.UUID | None
    ) -> PsychotherapyNote:
        now = self._clock.now()
        async with self._uow() as uow:
            if principal.role is not Role.THERAPIST or not await uow.care.is_active(client_id, principal.user_id):
                raise NotFound("No such client.")
            if appointment_id is not None:
                # Only a session of this therapist with this client: anyone else's is not theirs to link (a 404).
                appointment = await uow.appointments.get(appointment_id)
                if (
                    appointment is None
                    or appointment.therapist_id != principal.user_id
                    or appointment.client_id != client_id
                ):
                    raise NotFound("No such session of this client.", code="appointment_not_found")
            note = new_psychotherapy_note(
                id=self._ids.new(),
                author=principal,
                client_id=client_id,
                document=PsychotherapyDocument(text),
                created_at=now,
                appointment_id=appointment_id,
            )
            # Their own data key: nothing that opens a progress note or a plan opens these.
            key_id, key = await new_data_key(uow, self._cipher, self._ids.new, now)
            sealed = self._cipher.seal(
                json.dumps(note.document.to_dict()), key, _psychotherapy_aad(note.id, note.author_id)
            )
            await uow.psychotherapy_notes.add(
                PsychotherapyRow(note.id, note.author_id, client_id, appointment_id, key_id, sealed, 1, now, now)
            )
            await uow.audit.append(self._event(principal, "psychotherapy_note.write", "psychotherapy_note", note.id))
            await uow.commit()
        return note

    async def read_psychotherapy(self, principal: Principal, note_id: uuid.UUID) -> PsychotherapyNote:
        async with self._uow() as uow:
            note = psychotherapy_note_or_404(principal, await self._load_psychotherapy(uow, principal, note_id))
            await uow.audit.append(self._event(principal, "psychotherapy_note.read", "psychotherapy_note", note.id))
            await uow.commit()
        return note

    async def edit_psychotherapy(
        self, principal: Principal, note_id: uuid.UUID, text: str, *, expected_version: int
    ) -> PsychotherapyNote:
        now = self._clock.now()
        async with self._uow() as uow:
            row = await uow.psychotherapy_notes.get(note_id, for_update=True)
            current = psychotherapy_note_or_404(principal, await self._load_psychotherapy(uow, principal, note_id))
            assert row is not None
            edited = edit_psychotherapy_note(
                principal, current, PsychotherapyDocument(text), expected_version=expected_version, at=now
            )
            key = await data_key(uow, row.data_key_id)
            sealed = self._cipher.seal(
                json.dumps(edited.document.to_dict()), key, _psychotherapy_aad(row.id, row.author_id)
            )
            await uow.psychotherapy_notes.save(replace(row, body=sealed, version=edited.version, updated_at=now))
            await uow.audit.append(self._event(principal, "psychotherapy_note.write", "psychotherapy_note", row.id))
            await uow.commit()
        return edited

    async def list_psychotherapy(
        self, principal: Principal, client_id: uuid.UUID, *, after: After = None, limit: int = 50
    ) -> Page[PsychotherapyNote]:
        """The caller's own psychotherapy notes about a client, oldest first by (created_at, id), after `after`;
        nobody else's ever appear. Only the page is opened (and audited as read)."""
        async with self._uow() as uow:
            rows = Page.of(
                await uow.psychotherapy_notes.by_author(principal.user_id, client_id, after=after, limit=limit + 1),
                limit,
            )
            # A client the caller never cared for, or no user at all, is a 404 like every other object; notes
            # written in a care that has ended stay listable by their author (past the last page too).
            if (
                not rows.items
                and (principal.role is not Role.THERAPIST or not await uow.care.is_active(client_id, principal.user_id))
                and (
                    after is None
                    or not await uow.psychotherapy_notes.by_author(principal.user_id, client_id, after=None, limit=1)
                )
            ):
                raise NotFound("No such client.")
            notes = [
                psychotherapy_note_or_404(principal, await self._load_psychotherapy(uow, principal, r.id))
                for r in rows.items
            ]
            for note in notes:
                await uow.audit.append(self._event(principal, "psychotherapy_note.read", "psychotherapy_note", note.id))
            await uow.commit()
        return Page(notes, rows.more)

    async def _load_psychotherapy(
        self, uow: NotesUnitOfWork, principal: Principal, note_id: uuid.UUID
    ) -> PsychotherapyNote | None:
        row = await uow.psychotherapy_notes.get(note_id)
        # Decide access before decrypting anything: a stranger never causes the note to be opened.
        if row is None or row.author_id != principal.user_id or principal.role is not Role.THERAPIST:
            return None
        author = await uow.users.get(row.author_id)
        key = await data_key(uow, row.data_key_id)
        document = PsychotherapyDocument.from_dict(
            json.loads(self._cipher.open(row.body, key, _psychotherapy_aad(row.id, row.author_id)))
        )
        return PsychotherapyNote(
            id=row.id,
            practice_id=author.practice_id if author and author.practice_id else uuid.UUID(int=0),
            author_id=row.author_id,
            client_id=row.client_id,
            appointment_id=row.appointment_id,
            document=document,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )

    def _event(self, principal: Principal, action: str, object_type: str, object_id: uuid.UUID) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())
