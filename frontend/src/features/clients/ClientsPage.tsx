import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDayLong, formatTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { clientLabel, isCancelled } from '../scheduling/labels';
import { useAppointments, useTherapistZone } from '../scheduling/queries';
import type { Appointment } from '../scheduling/types';

export interface ClientSummary {
  clientId: string;
  sessions: Appointment[];
  last: Appointment | undefined;
  next: Appointment | undefined;
}

/** The therapist's clients, derived from their sessions (the API has no client list of its own yet). */
export function summarizeClients(appointments: Appointment[], therapistId: string | undefined, now: number): ClientSummary[] {
  const byClient = new Map<string, Appointment[]>();
  for (const a of appointments) {
    if (a.therapist_id !== therapistId) continue;
    byClient.set(a.client_id, [...(byClient.get(a.client_id) ?? []), a]);
  }
  return [...byClient.entries()]
    .map(([clientId, sessions]) => {
      const active = sessions.filter((a) => !isCancelled(a.status)).sort((a, b) => a.start.localeCompare(b.start));
      return {
        clientId,
        sessions,
        last: active.filter((a) => Date.parse(a.start) <= now).at(-1),
        next: active.find((a) => Date.parse(a.start) > now),
      };
    })
    .sort((a, b) => (b.last?.start ?? b.next?.start ?? '').localeCompare(a.last?.start ?? a.next?.start ?? ''));
}

export function ClientsPage() {
  const me = useMe().data;
  const zone = useTherapistZone();
  const appointments = useAppointments({});
  const clients = summarizeClients(appointments.data ?? [], me?.id, Date.now());
  const when = (a: Appointment) => `${formatDayLong(a.start, zone)}, ${formatTime(a.start, zone)}`;
  return (
    <>
      <title>Clients · Hearth</title>
      <h1>Clients</h1>
      <p>Everyone you have had or booked a session with. Open a client for their plan, progress, measures and notes.</p>
      <QueryState isPending={appointments.isPending} error={appointments.error} what="your clients" />
      {appointments.data &&
        (clients.length === 0 ? (
          <p>No clients yet: they appear here once they book a session with you.</p>
        ) : (
          <ul className="cards" aria-label="Clients">
            {clients.map((c) => (
              <li key={c.clientId} className="card">
                <h2 className="card-title">
                  <Link to={`/therapist/clients/${c.clientId}`}>{clientLabel(c.clientId)}</Link>
                </h2>
                <p>
                  {c.last ? `Last session ${when(c.last)}` : 'No past session'} ·{' '}
                  {c.next ? `next ${when(c.next)}` : 'nothing booked'}
                </p>
              </li>
            ))}
          </ul>
        ))}
    </>
  );
}
