import { useState } from 'react';
import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDateTime, formatDayLong, formatTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { useClientNames } from '../clients/clientNames';
import { useAppointments, useTherapistZone } from '../scheduling/queries';
import { noteEditorPath } from './NoteEditorPage';
import { useTodo } from './queries';

const DAY = 86_400_000;
const DUE_HOURS = 72;

/**
 * What the therapist still has to write: the server's list of completed sessions whose note is missing or
 * unsigned more than 72 hours after they ended, and the sessions completed since, which are not due yet.
 */
export function NotesTodoPage() {
  const me = useMe().data;
  const zone = useTherapistZone();
  const todo = useTodo();
  const [since] = useState(() => new Date(Date.now() - 30 * DAY).toISOString());
  const appointments = useAppointments({ start: since });
  const [now] = useState(() => Date.now());
  const mine = (appointments.data ?? []).filter((a) => a.therapist_id === me?.id);
  const byId = new Map(mine.map((a) => [a.id, a]));
  const overdue = new Set((todo.data ?? []).map((t) => t.appointment_id));
  const recent = mine
    .filter((a) => a.status === 'completed' && !overdue.has(a.id) && Date.parse(a.end) + DUE_HOURS * 3_600_000 >= now)
    .sort((a, b) => b.start.localeCompare(a.start));
  const nameOf = useClientNames(mine.map((a) => a.client_id));

  return (
    <>
      <title>Notes to write · Hearth</title>
      <h1>Notes to write</h1>
      <p>Every completed session needs a signed progress note within {DUE_HOURS} hours of its end.</p>

      <section aria-labelledby="overdue-heading">
        <h2 id="overdue-heading">Overdue</h2>
        <QueryState isPending={todo.isPending} error={todo.error} what="overdue notes" />
        {todo.data &&
          (todo.data.length === 0 ? (
            <p>No overdue notes.</p>
          ) : (
            <ul className="cards" aria-label="Overdue notes">
              {todo.data.map((t) => {
                const a = byId.get(t.appointment_id);
                return (
                  <li key={t.appointment_id} className="card">
                    <h3 className="card-title">
                      <Link to={noteEditorPath(t.appointment_id)}>
                        {t.reason === 'missing' ? 'Write the note' : 'Finish and sign the note'}
                        {a && ` for ${nameOf(a.client_id)}`}
                      </Link>
                    </h3>
                    <p>
                      Session ended {formatDateTime(t.ended_at, zone)} · {t.reason === 'missing' ? 'no note yet' : 'draft not signed'} ·
                      due {formatDateTime(t.due_at, zone)}
                    </p>
                  </li>
                );
              })}
            </ul>
          ))}
      </section>

      <section aria-labelledby="recent-heading">
        <h2 id="recent-heading">Completed in the last {DUE_HOURS} hours</h2>
        <p className="hint">Not due yet. Open each to write, finish or check its note.</p>
        <QueryState isPending={appointments.isPending} error={appointments.error} what="recent sessions" />
        {appointments.data &&
          (recent.length === 0 ? (
            <p>No recently completed sessions.</p>
          ) : (
            <ul className="cards" aria-label="Recently completed sessions">
              {recent.map((a) => (
                <li key={a.id} className="card">
                  <h3 className="card-title">
                    <Link to={noteEditorPath(a.id)}>
                      Note for {nameOf(a.client_id)}, {formatDayLong(a.start, zone)} {formatTime(a.start, zone)}
                    </Link>
                  </h3>
                  <p>
                    {a.duration_minutes} minutes · due {formatDateTime(Date.parse(a.end) + DUE_HOURS * 3_600_000, zone)}
                  </p>
                </li>
              ))}
            </ul>
          ))}
      </section>
    </>
  );
}
