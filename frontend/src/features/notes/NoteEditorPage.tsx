import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert, errorMessage } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { formatDateTime, formatDayLong, formatTime } from '../../lib/time';
import { ClientName } from '../clients/clientNames';
import { PROGRESS_RATINGS, isOpen, ratingLabel } from '../plans/labels';
import { usePlan } from '../plans/queries';
import type { Goal, ProgressRating } from '../plans/types';
import { useAppointment, useTherapistZone } from '../scheduling/queries';
import type { Appointment } from '../scheduling/types';
import { TEMPLATES, templateInfo } from './labels';
import type { VersionedNote } from './notesApi';
import { useAddAddendum, useNote, useSignNote } from './queries';
import type { NoteDocument, Template } from './types';
import { DraftChangedError, useDraftAutosave, type SaveState, type SavedDraft } from './useDraftAutosave';

export function noteEditorPath(appointmentId: string): string {
  return `/therapist/appointments/${appointmentId}/note`;
}

/** The progress note of one session: a draft saved as you type, then signed and locked, then addenda. */
export function NoteEditorPage() {
  const { appointmentId } = useParams();
  const appointment = useAppointment(appointmentId);
  const note = useNote(appointmentId);
  const zone = useTherapistZone();
  // Bumped to start the draft again from the server's copy (after a conflict).
  const [generation, setGeneration] = useState(0);
  const [message, setMessage] = useState('');
  const a = appointment.data;

  return (
    <div className="note-page">
      <title>Session note · Hearth</title>
      <p>
        {a ? (
          <>
            <Link to={`/therapist/appointments/${a.id}`}>Back to the session</Link> ·{' '}
            <Link to={`/therapist/clients/${a.client_id}`}>Chart of <ClientName id={a.client_id} /></Link>
          </>
        ) : (
          <Link to="/therapist/notes">Back to notes to write</Link>
        )}
      </p>
      <h1>Session note</h1>
      <QueryState
        isPending={appointment.isPending || note.isPending}
        error={appointment.error ?? note.error}
        what="the session note"
      />
      {a && (
        <p className="session-line">
          <ClientName id={a.client_id} /> · {formatDayLong(a.start, zone)}, {formatTime(a.start, zone)}–{formatTime(a.end, zone)} ·{' '}
          {a.duration_minutes} minutes
        </p>
      )}
      <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
      {a && note.isSuccess && (
        <>
          {note.data?.data.state === 'signed' ? (
            <SignedNote appointment={a} note={note.data} zone={zone} />
          ) : a.status !== 'completed' && !note.data ? (
            <p className="notice">
              A note is written once the session is completed. Mark it completed on{' '}
              <Link to={`/therapist/appointments/${a.id}`}>the session page</Link>.
            </p>
          ) : (
            <DraftEditor
              key={generation}
              appointment={a}
              initial={note.data}
              zone={zone}
              onSigned={() => setMessage('Note signed and locked. Later changes can only be added as addenda.')}
              onReload={async () => {
                await note.refetch();
                setGeneration((g) => g + 1);
              }}
            />
          )}
        </>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------- the draft

interface RatingDraft {
  rating: ProgressRating | '';
  comment: string;
}

function initialFields(document: NoteDocument | undefined): Record<string, string> {
  return { ...(document?.fields ?? {}) };
}

function initialRatings(document: NoteDocument | undefined): Record<string, RatingDraft> {
  return Object.fromEntries((document?.ratings ?? []).map((r) => [r.goal_id, { rating: r.rating, comment: r.comment ?? '' }]));
}

/** The note to send. Ratings of goals no longer in the plan are left out: signing would refuse them. */
function documentOf(
  template: Template,
  fields: Record<string, string>,
  ratings: Record<string, RatingDraft>,
  goalIds: Set<string> | null,
): NoteDocument {
  return {
    template,
    fields: Object.fromEntries(templateInfo(template).fields.map((f) => [f.name, fields[f.name] ?? ''])),
    ratings: Object.entries(ratings).flatMap(([goal_id, r]) =>
      r.rating && (!goalIds || goalIds.has(goal_id)) ? [{ goal_id, rating: r.rating, comment: r.comment.trim() }] : [],
    ),
  };
}

function fieldId(name: string): string {
  return `note-field-${name}`;
}

function DraftEditor({
  appointment,
  initial,
  zone,
  onSigned,
  onReload,
}: {
  appointment: Appointment;
  initial: VersionedNote | null;
  zone: string;
  onSigned: () => void;
  onReload: () => Promise<void>;
}) {
  const document = initial?.data.document;
  const [template, setTemplate] = useState<Template>(document?.template ?? 'soap');
  const [fields, setFields] = useState(() => initialFields(document));
  const [ratings, setRatings] = useState(() => initialRatings(document));
  const autosave = useDraftAutosave(appointment.id, initial);
  const sign = useSignNote(appointment.id, appointment.client_id);
  const [signing, setSigning] = useState(false);
  // Why signing did not start although the server did not refuse it (the draft moved on while saving).
  const [notSigned, setNotSigned] = useState<unknown>(null);
  const plan = usePlan(appointment.client_id);
  const info = templateInfo(template);
  const goalIds = plan.isSuccess ? new Set((plan.data?.data.document.goals ?? []).map((g) => g.id)) : null;
  const current = (t = template, f = fields, r = ratings) => documentOf(t, f, r, goalIds);

  // Every change goes to the autosave, which sends it once typing pauses.
  function update(next: { template?: Template; fields?: Record<string, string>; ratings?: Record<string, RatingDraft> }) {
    const t = next.template ?? template;
    const f = next.fields ?? fields;
    const r = next.ratings ?? ratings;
    if (next.template) setTemplate(t);
    if (next.fields) setFields(f);
    if (next.ratings) setRatings(r);
    sign.reset();
    setNotSigned(null);
    autosave.schedule(current(t, f, r));
  }

  async function onSign(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    sign.reset();
    setNotSigned(null);
    setSigning(true);
    let saved: SavedDraft;
    try {
      saved = await autosave.flush(current());
    } catch (error) {
      // Nothing is signed unless the server holds exactly what is on screen. A failed save is shown by the
      // autosave status, and the text stays in the editor.
      if (error instanceof DraftChangedError) setNotSigned(error);
      setSigning(false);
      return;
    }
    try {
      // The ETag of that very save: signing a newer or older version than the one on screen must fail.
      await sign.mutateAsync({ noteId: saved.note.data.id, etag: saved.etag });
      onSigned();
    } catch (error) {
      // `note_incomplete` names the first empty field: take the keyboard there.
      if (error instanceof ApiError) {
        const field = error.fieldProblems.find((p) => p.path.startsWith('fields.'))?.path.slice('fields.'.length);
        if (field) window.document.getElementById(fieldId(field))?.focus();
      }
    } finally {
      setSigning(false);
    }
  }

  const goals = ratableGoals(plan.data?.data.document.goals ?? [], ratings);
  const signError = sign.error;
  const fieldError = (name: string) => (signError instanceof ApiError ? signError.messageAt(`fields.${name}`) : undefined);

  return (
    <form onSubmit={(e) => void onSign(e)} aria-label="Session note" className="note-editor" noValidate>
      <AutosaveStatus state={autosave.state} zone={zone} onReload={onReload} />
      <fieldset>
        <legend>Template</legend>
        <div className="inline-choices">
          {TEMPLATES.map((t) => (
            <label key={t.value} className="choice">
              <input type="radio" name="template" value={t.value} checked={template === t.value} onChange={() => update({ template: t.value })} />{' '}
              {t.label}
            </label>
          ))}
        </div>
        <p className="hint">Switching keeps what you wrote in fields the templates share (such as Plan).</p>
      </fieldset>

      {info.fields.map((field) => (
        <TextArea
          key={`${template}-${field.name}`}
          id={fieldId(field.name)}
          label={field.label}
          name={field.name}
          hint={field.hint}
          rows={field.name === 'text' ? 10 : 4}
          maxLength={field.name === 'text' ? 50_000 : 20_000}
          value={fields[field.name] ?? ''}
          error={fieldError(field.name)}
          onChange={(e) => update({ fields: { ...fields, [field.name]: e.target.value } })}
        />
      ))}

      <section aria-labelledby="ratings-heading" className="form-section">
        <h2 id="ratings-heading">Progress on the plan&rsquo;s goals</h2>
        {plan.isPending ? (
          <p role="status">Loading the plan…</p>
        ) : goals.length === 0 ? (
          <p>
            No open goals to rate.{' '}
            <Link to={`/therapist/clients/${appointment.client_id}?tab=plan`}>Write the plan</Link> to rate progress in
            your notes.
          </p>
        ) : (
          <>
            <p className="hint">Signing adds these ratings to the plan&rsquo;s progress history; the client sees the rating, not the comment.</p>
            {goals.map((goal, n) => {
              const current = ratings[goal.id] ?? { rating: '', comment: '' };
              const setRating = (patch: Partial<RatingDraft>) => update({ ratings: { ...ratings, [goal.id]: { ...current, ...patch } } });
              return (
                <fieldset key={goal.id} className="goal-rating">
                  <legend>Goal: {goal.text}</legend>
                  <div role="radiogroup" aria-label={`Rating for goal ${n + 1}`} className="inline-choices">
                    <label className="choice">
                      <input type="radio" name={`rating-${goal.id}`} checked={current.rating === ''} onChange={() => setRating({ rating: '' })} /> No
                      rating
                    </label>
                    {PROGRESS_RATINGS.map((r) => (
                      <label key={r.value} className="choice">
                        <input
                          type="radio"
                          name={`rating-${goal.id}`}
                          value={r.value}
                          checked={current.rating === r.value}
                          onChange={() => setRating({ rating: r.value })}
                        />{' '}
                        {r.label}
                      </label>
                    ))}
                  </div>
                  {current.rating && (
                    <TextArea
                      label={
                        <>
                          Comment<span className="visually-hidden"> on goal {n + 1}</span>
                        </>
                      }
                      name={`comment-${goal.id}`}
                      rows={2}
                      maxLength={2000}
                      value={current.comment}
                      onChange={(e) => setRating({ comment: e.target.value })}
                    />
                  )}
                </fieldset>
              );
            })}
          </>
        )}
      </section>

      <ErrorAlert error={signError ?? notSigned} />
      <p className="hint" id="sign-hint">
        Signing locks the note: every field must be filled in, and afterwards you can only add dated addenda.
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => autosave.flush(current()).catch(() => undefined)}>
          Save draft now
        </button>
        <button type="submit" aria-describedby="sign-hint" disabled={signing}>
          {signing ? 'Signing…' : 'Sign and lock note'}
        </button>
      </div>
    </form>
  );
}

/** Open goals, and any goal the draft already rates (even if it was closed meanwhile). */
function ratableGoals(goals: Goal[], ratings: Record<string, RatingDraft>): Goal[] {
  return goals.filter((goal) => isOpen(goal.status) || ratings[goal.id]?.rating);
}

function AutosaveStatus({ state, zone, onReload }: { state: SaveState; zone: string; onReload: () => Promise<void> }) {
  if (state.kind === 'error' && state.fatal) {
    const signed = state.error instanceof ApiError && state.error.code === 'note_signed';
    return (
      <div className="alert" role="alert">
        <p>
          {signed
            ? 'This note was signed elsewhere, so your latest changes were not saved.'
            : 'This note was changed elsewhere (another tab or device), so your latest changes were not saved.'}{' '}
          Reload the note to continue from the saved version.
        </p>
        <button type="button" onClick={() => void onReload()}>
          Reload note
        </button>
      </div>
    );
  }
  return (
    <>
      <ErrorAlert error={state.kind === 'error' ? new SaveFailed(state.error) : null} />
      {/* Polite and brief: typing must not be interrupted by announcements. */}
      <p className="autosave" role="status" aria-live="polite">
        {state.kind === 'pending' && 'Unsaved changes…'}
        {state.kind === 'saving' && 'Saving draft…'}
        {state.kind === 'saved' && `Draft saved at ${formatTime(state.at, zone)}.`}
        {state.kind === 'idle' && 'Drafts save automatically as you type.'}
        {state.kind === 'error' && 'Not saved. Your text stays here; the next change or “Save draft now” tries again.'}
      </p>
    </>
  );
}

/** A failed draft save, told as such: the bare server message would not say that the latest text is unsaved. */
class SaveFailed extends Error {
  constructor(cause: unknown) {
    super(`Your latest changes could not be saved: ${errorMessage(cause)}`);
    this.name = 'SaveFailed';
  }
}

// ---------------------------------------------------------------------------------------------- signed

function SignedNote({ appointment, note, zone }: { appointment: Appointment; note: VersionedNote; zone: string }) {
  const n = note.data;
  const info = templateInfo(n.document.template);
  const plan = usePlan(appointment.client_id);
  const goals = new Map((plan.data?.data.document.goals ?? []).map((g) => [g.id, g.text]));
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <section aria-labelledby="signed-heading">
        <h2 id="signed-heading" ref={heading} tabIndex={-1}>
          {info.label} note, signed
        </h2>
        <p>
          <span className="badge item-achieved">Signed</span> {n.signed_at && formatDateTime(n.signed_at, zone)}
          {n.content_hash && <span className="muted"> · content hash {n.content_hash.slice(0, 12)}…</span>}
        </p>
        <dl className="note-fields">
          {info.fields.map((field) => (
            <div key={field.name}>
              <dt>{field.label}</dt>
              <dd>{n.document.fields[field.name]}</dd>
            </div>
          ))}
        </dl>
        {(n.document.ratings ?? []).length > 0 && (
          <>
            <h3>Progress on the plan&rsquo;s goals</h3>
            <ul>
              {(n.document.ratings ?? []).map((r) => (
                <li key={r.goal_id}>
                  {goals.get(r.goal_id) ?? 'A goal no longer in the plan'}: <strong>{ratingLabel(r.rating)}</strong>
                  {r.comment && <> — {r.comment}</>}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <Addenda appointmentId={appointment.id} note={note} zone={zone} />
    </>
  );
}

function Addenda({ appointmentId, note, zone }: { appointmentId: string; note: VersionedNote; zone: string }) {
  const add = useAddAddendum(appointmentId);
  const [text, setText] = useState('');
  const [message, setMessage] = useState('');
  const addenda = note.data.addenda;
  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setMessage('');
    add.mutate(
      { noteId: note.data.id, text: text.trim() },
      {
        onSuccess: () => {
          setText('');
          setMessage('Addendum added.');
        },
      },
    );
  }
  return (
    <section aria-labelledby="addenda-heading">
      <h2 id="addenda-heading">Addenda</h2>
      {addenda.length === 0 ? (
        <p className="muted">No addenda.</p>
      ) : (
        <ol className="cards" aria-label="Addenda">
          {addenda.map((addendum) => (
            <li key={addendum.id} className="card">
              <p className="muted">{formatDateTime(addendum.written_at, zone)}</p>
              <p className="bio">{addendum.text}</p>
            </li>
          ))}
        </ol>
      )}
      <form onSubmit={onSubmit} aria-labelledby="addendum-form-heading">
        <h3 id="addendum-form-heading">Add an addendum</h3>
        <TextArea
          label="Addendum"
          name="addendum"
          hint="Dated and kept with the note; the signed note itself never changes."
          required
          maxLength={10_000}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <ErrorAlert error={add.error} />
        <StatusMessage className="success">{message && <p>{message}</p>}</StatusMessage>
        <button type="submit" disabled={add.isPending}>
          {add.isPending ? 'Adding…' : 'Add addendum'}
        </button>
      </form>
    </section>
  );
}
