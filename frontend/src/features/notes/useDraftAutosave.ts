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

/**
 * Saves a note's draft a moment after each change, one request at a time, each sending the ETag the previous
 * save returned (or "v0" to create the draft). `flush` saves at once and resolves when everything is on the
 * server, so signing never races a pending save. A stale or signed note stops autosaving until reloaded.
 */
export function useDraftAutosave(appointmentId: string, initial: VersionedNote | null) {
  const queryClient = useQueryClient();
  const etag = useRef(initial?.etag ?? '"v0"');
  const noteRef = useRef<VersionedNote | null>(initial);
  const savedText = useRef<string | null>(initial ? JSON.stringify(initial.data.document) : null);
  const latest = useRef<NoteDocument | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const stopped = useRef(false);
  const [state, setState] = useState<SaveState>({ kind: 'idle' });
  const [note, setNote] = useState<VersionedNote | null>(initial);

  const runSave = useCallback(async () => {
    const document = latest.current;
    if (stopped.current || document === null) return;
    const text = JSON.stringify(document);
    // Nothing new since the last save (a note that exists), so there is nothing to send.
    if (text === savedText.current && noteRef.current) {
      setState((s) => (s.kind === 'pending' ? { kind: 'saved', at: Date.now() } : s));
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
      if (fatal) stopped.current = true;
      setState({ kind: 'error', error, fatal });
    }
  }, [appointmentId, queryClient]);

  /** Saves now (after any save in flight) and resolves with the note as the server holds it. */
  const flush = useCallback(
    (document?: NoteDocument): Promise<VersionedNote | null> => {
      if (document) latest.current = document;
      if (timer.current) {
        clearTimeout(timer.current);
        timer.current = null;
      }
      chain.current = chain.current.then(runSave);
      return chain.current.then(() => (stopped.current ? null : noteRef.current));
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
        void flush();
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
        void flush();
      }
    },
    [flush],
  );

  return { note, state, schedule, flush, etag };
}
