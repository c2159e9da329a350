import { api } from '../../api/client';
import { unwrap, unwrapVersioned, unwrapVersionedOrNull, type Versioned } from '../../api/result';
import { allPages } from '../../api/pages';
import type { NewPsychotherapyNote, Note, NoteDocument, PsychotherapyNote, Todo } from './types';

export type VersionedNote = Versioned<Note>;

/** The session's note, or null while none is written. */
export function fetchNote(appointmentId: string): Promise<VersionedNote | null> {
  return unwrapVersionedOrNull(api.GET('/api/v1/appointments/{appointment_id}/note', { params: { path: { appointment_id: appointmentId } } }));
}

/** Saves the draft; `etag` is '"v0"' to create it. 412 when stale, 409 `note_signed` once signed. */
export function saveNote(appointmentId: string, document: NoteDocument, etag: string): Promise<VersionedNote> {
  return unwrapVersioned(
    api.PUT('/api/v1/appointments/{appointment_id}/note', {
      params: { path: { appointment_id: appointmentId }, header: { 'if-match': etag } },
      body: document,
    }),
  );
}

export function signNote(noteId: string, etag: string): Promise<VersionedNote> {
  return unwrapVersioned(api.POST('/api/v1/notes/{note_id}/sign', { params: { path: { note_id: noteId }, header: { 'if-match': etag } } }));
}

export function addAddendum(noteId: string, text: string): Promise<VersionedNote> {
  return unwrapVersioned(api.POST('/api/v1/notes/{note_id}/addenda', { params: { path: { note_id: noteId } }, body: { text } }));
}

export function fetchTodo(): Promise<Todo[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/notes/todo', { params: { query } })));
}

export function fetchPsychotherapyNotes(clientId: string): Promise<PsychotherapyNote[]> {
  return allPages((query) =>
    unwrap(api.GET('/api/v1/clients/{client_id}/psychotherapy-notes', { params: { path: { client_id: clientId }, query } })),
  );
}

export function createPsychotherapyNote(clientId: string, body: NewPsychotherapyNote): Promise<PsychotherapyNote> {
  return unwrap(api.POST('/api/v1/clients/{client_id}/psychotherapy-notes', { params: { path: { client_id: clientId } }, body }));
}

/** Edits with If-Match on the version read (the list carries versions, not ETags: the tag is "v<version>"). */
export function editPsychotherapyNote(noteId: string, text: string, version: number): Promise<PsychotherapyNote> {
  return unwrap(
    api.PUT('/api/v1/psychotherapy-notes/{note_id}', {
      params: { path: { note_id: noteId }, header: { 'if-match': `"v${version}"` } },
      body: { text },
    }),
  );
}
