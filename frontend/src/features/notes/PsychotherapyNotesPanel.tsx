import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { formatDateTime } from '../../lib/time';
import { useFocusAfterRender } from '../../lib/useFocusAfterRender';
import { useCreatePsychotherapyNote, useEditPsychotherapyNote, usePsychotherapyNotes } from './queries';
import type { PsychotherapyNote } from './types';

/** The therapist's private process notes about a client: readable by their author only, kept out of the record. */
export function PsychotherapyNotesPanel({ clientId, zone }: { clientId: string; zone: string }) {
  const notes = usePsychotherapyNotes(clientId);
  const create = useCreatePsychotherapyNote(clientId);
  const [text, setText] = useState('');
  const [message, setMessage] = useState('');
  const sorted = [...(notes.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setMessage('');
    create.mutate(
      { text: text.trim() },
      {
        onSuccess: () => {
          setText('');
          setMessage('Private note saved.');
        },
      },
    );
  }

  return (
    <div className="private-notes">
      <div className="private-banner" id="private-notice">
        <p>
          <strong>Private: only you can read these.</strong> Psychotherapy notes are kept apart from the clinical
          record. Your client, practice admins, integrations and exports never see them.
        </p>
      </div>
      <form onSubmit={onSubmit} aria-labelledby="new-private-heading">
        <h3 id="new-private-heading">New private note</h3>
        <TextArea
          label="Private note"
          name="private-note"
          hint="Only you can read it."
          required
          rows={4}
          maxLength={50_000}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <ErrorAlert error={create.error} />
        <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Saving…' : 'Save private note'}
        </button>
      </form>
      <section aria-labelledby="private-list-heading">
        <h3 id="private-list-heading">Your private notes</h3>
        <QueryState isPending={notes.isPending} error={notes.error} what="your private notes" />
        {notes.data &&
          (sorted.length === 0 ? (
            <p>None yet.</p>
          ) : (
            <ol className="cards" aria-label="Your private notes">
              {sorted.map((note) => (
                <PrivateNote key={note.id} clientId={clientId} note={note} zone={zone} />
              ))}
            </ol>
          ))}
      </section>
    </div>
  );
}

function PrivateNote({ clientId, note, zone }: { clientId: string; note: PsychotherapyNote; zone: string }) {
  const edit = useEditPsychotherapyNote(clientId);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(note.text);
  const [message, setMessage] = useState('');
  const focusLater = useFocusAfterRender();
  const stale = edit.error instanceof ApiError && edit.error.status === 412;
  const editId = `private-${note.id}-text`;
  const editButtonId = `private-${note.id}-edit`;
  const written = formatDateTime(note.created_at, zone);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    edit.mutate(
      { noteId: note.id, text: text.trim(), version: note.version },
      {
        onSuccess: () => {
          setEditing(false);
          setMessage('Private note updated.');
          focusLater(editButtonId);
        },
      },
    );
  }

  return (
    <li className="card">
      <p className="muted">
        Written {written}
        {note.updated_at !== note.created_at && <> · edited {formatDateTime(note.updated_at, zone)}</>}
      </p>
      <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
      {editing ? (
        <form onSubmit={onSubmit} aria-label={`Edit the private note written ${written}`}>
          <TextArea id={editId} label="Private note" name="private-note-edit" required rows={4} value={text} onChange={(e) => setText(e.target.value)} />
          {stale ? (
            <div className="alert" role="alert">
              <p>This note was changed elsewhere after you opened it, so your edit was not saved.</p>
              <button
                type="button"
                onClick={() => {
                  edit.reset();
                  setEditing(false);
                }}
              >
                Show the current version
              </button>
            </div>
          ) : (
            <ErrorAlert error={edit.error} />
          )}
          <div className="actions">
            <button type="submit" disabled={edit.isPending}>
              {edit.isPending ? 'Saving…' : 'Save changes'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setEditing(false);
                focusLater(editButtonId);
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <>
          <p className="bio">{note.text}</p>
          <button
            type="button"
            id={editButtonId}
            className="secondary"
            onClick={() => {
              setText(note.text);
              setMessage('');
              edit.reset();
              setEditing(true);
              focusLater(editId);
            }}
          >
            Edit<span className="visually-hidden"> the private note written {written}</span>
          </button>
        </>
      )}
    </li>
  );
}
