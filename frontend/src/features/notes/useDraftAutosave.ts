import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/problem';
import { saveNote, type VersionedNote } from './notesApi';
import { noteKeys } from './queries';
import type { NoteDocument } from './types';

export type SaveState =
  | { kind: 'idle' }
  | { kind: 'pending' } // changed, waiting for the typing to pause
  | { kind: 'saving' }
  | { kind: 'saved'; at: number }
  | { kind: 'error'; error: unknown; fatal: boolean };

/** How long typing must pause before the draft is saved. */
export const AUTOSAVE_DELAY_MS = 1_200;

/** A save the server refused for good: someone else saved (412) or the note was signed meanwhile (409). */
function isFatal(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 412 || error.status === 409);
}

/** The draft changed while it was being saved, so what the server holds is not what the editor shows. */
export class DraftChangedError extends Error {
  constructor() {
    super('The note changed while it was being saved. Check it, then sign again.');
    this.name = 'DraftChangedError';
  }
}

/** What the server holds once `flush` resolves: the note and the ETag that names exactly that version. */
export interface SavedDraft {
  note: VersionedNote;
  etag: string;
}

/**
 * Saves a note's draft a moment after each change, one request at a time, each sending the ETag the previous
 * save returned (or "v0" to create the draft). `flush` saves at once and resolves only when the server holds
 * exactly the latest document, and rejects otherwise: signing relies on it, because signing with the ETag of an
 * older save would lock in that older text. A stale or signed note stops autosaving until reloaded.
 */
export function useDraftAutosave(appointmentId: string, initial: VersionedNote | null) {
  const queryClient = useQueryClient();
  const etag = useRef(initial?.etag ?? '"v0"');
  const noteRef = useRef<VersionedNote | null>(initial);
  const savedText = useRef<string | null>(initial ? JSON.stringify(initial.data.document) : null);
  const latest = useRef<NoteDocument | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const chain = useRef<Promise<void>>(Promise.resolve());
  // Set once the server refused for good (409/412): that error, for every later flush.
  const stopped = useRef<unknown>(null);
  const [state, setState] = useState<SaveState>({ kind: 'idle' });
  const [note, setNote] = useState<VersionedNote | null>(initial);

  const runSave = useCallback(async () => {
    const document = latest.current;
    if (stopped.current) throw stopped.current;
    if (document === null) return;
    const text = JSON.stringify(document);
    // Nothing new since the last save (a note that exists), so there is nothing to send.
    if (text === savedText.current && noteRef.current) {
      // (An earlier failed save is moot too: the server already holds this text.)
      setState((s) => (s.kind === 'pending' || s.kind === 'error' ? { kind: 'saved', at: Date.now() } : s));
      return;
    }
    setState({ kind: 'saving' });
    try {
      const saved = await saveNote(appointmentId, document, etag.current);
      etag.current = saved.etag;
      savedText.current = text;
      noteRef.current = saved;
      setNote(saved);
      queryClient.setQueryData(noteKeys.note(appointmentId), saved);
      // A newer change may be waiting for its own timer; it stays 'pending' until then.
      setState(JSON.stringify(latest.current) === text ? { kind: 'saved', at: Date.now() } : { kind: 'pending' });
    } catch (error) {
      const fatal = isFatal(error);
      if (fatal) stopped.current = error;
      setState({ kind: 'error', error, fatal });
      // Every failure reaches the caller: a flush that resolved here would hand out the previous save's note.
      throw error;
    }
  }, [appointmentId, queryClient]);

  /**
   * Saves now (after any save in flight) and resolves with the note as the server holds it, which is then the
   * latest document. Rejects when the save fails or the document changed again meanwhile.
   */
  const flush = useCallback(
    (document?: NoteDocument): Promise<SavedDraft> => {
      if (document) latest.current = document;
      if (timer.current) {
        clearTimeout(timer.current);
        timer.current = null;
      }
      const run = chain.current.then(runSave);
      // The queue goes on after a failed save (the next one retries it); only this caller hears of the failure.
      chain.current = run.catch(() => undefined);
      return run.then(() => {
        const saved = noteRef.current;
        if (!saved || savedText.current !== JSON.stringify(latest.current)) throw new DraftChangedError();
        return { note: saved, etag: etag.current };
      });
    },
    [runSave],
  );

  const schedule = useCallback(
    (document: NoteDocument) => {
      latest.current = document;
      if (stopped.current) return;
      setState({ kind: 'pending' });
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        timer.current = null;
        // A failure is shown through `state`; the next change or flush tries again.
        flush().catch(() => undefined);
      }, AUTOSAVE_DELAY_MS);
    },
    [flush],
  );

  // Leaving the page with a change still waiting for its timer: save it rather than lose it.
  useEffect(
    () => () => {
      if (timer.current) {
        clearTimeout(timer.current);
        timer.current = null;
        flush().catch(() => undefined);
      }
    },
    [flush],
  );

  return { note, state, schedule, flush };
}
