import { useState } from 'react';
import { Link } from 'react-router';
import { ErrorAlert } from '../components/ErrorAlert';
import { formatDayLong, formatTime } from '../lib/time';
import { ClientName } from '../features/clients/clientNames';
import { isCancelled, modalityLabel } from '../features/scheduling/labels';
import { useAppointments } from '../features/scheduling/queries';

/** The next few active sessions, for an area's start page. */
export function UpcomingSessions({
  zone,
  linkTo,
  who,
  onlyTherapist,
}: {
  zone: string;
  linkTo: (id: string) => string;
  who: 'client' | 'therapist';
  onlyTherapist?: string;
}) {
  const [start] = useState(() => new Date(Date.now() - 60 * 60_000).toISOString());
  const appointments = useAppointments({ start });
  const next = (appointments.data ?? [])
    .filter((a) => !isCancelled(a.status) && (!onlyTherapist || a.therapist_id === onlyTherapist))
    .filter((a) => Date.parse(a.end) > Date.now())
    .sort((a, b) => a.start.localeCompare(b.start))
    .slice(0, 5);
  return (
    <section aria-labelledby="next-heading">
      <h2 id="next-heading">Next sessions</h2>
      <ErrorAlert error={appointments.error} />
      {appointments.isPending ? (
        <p role="status">Loading…</p>
      ) : next.length === 0 ? (
        <p>No upcoming sessions.</p>
      ) : (
        <ul>
          {next.map((a) => (
            <li key={a.id}>
              <Link to={linkTo(a.id)}>
                {formatDayLong(a.start, zone)}, {formatTime(a.start, zone)}
              </Link>{' '}
              · {a.duration_minutes} min · {modalityLabel(a.modality)}
              {who === 'therapist' && (
                <>
                  {' · '}
                  <ClientName id={a.client_id} />
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
