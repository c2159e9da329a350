import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDayLong, formatTime } from '../../lib/time';
import { useTherapistZone } from '../scheduling/queries';
import { fetchClients } from './clientsApi';

export const clientsKey = ['clients'] as const;

export function ClientsPage() {
  const zone = useTherapistZone();
  // From care relationships, not sessions: a client who chose this therapist through matching has none booked yet.
  const clients = useInfiniteQuery({
    queryKey: clientsKey,
    queryFn: ({ pageParam }) => fetchClients(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const items = clients.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <title>Clients · Hearth</title>
      <h1>Clients</h1>
      <p>Everyone in your care, booked or not. Open a client for their plan, progress, measures, notes and sessions.</p>
      <QueryState isPending={clients.isPending} error={clients.error} what="your clients" />
      {clients.data &&
        (items.length === 0 ? (
          <p>No clients yet: they appear here once they choose you or book a session with you.</p>
        ) : (
          <ul className="cards" aria-label="Clients">
            {items.map((c) => (
              <li key={c.client_id} className="card">
                <h2 className="card-title">
                  <Link to={`/therapist/clients/${c.client_id}`}>{c.display_name}</Link>
                </h2>
                <p>
                  In your care since {formatDayLong(c.since, zone)} ·{' '}
                  {c.next_appointment
                    ? `next session ${formatDayLong(c.next_appointment.start, zone)}, ${formatTime(c.next_appointment.start, zone)}`
                    : 'nothing booked'}
                </p>
              </li>
            ))}
          </ul>
        ))}
      {clients.hasNextPage && (
        <button type="button" onClick={() => void clients.fetchNextPage()} disabled={clients.isFetchingNextPage}>
          {clients.isFetchingNextPage ? 'Loading…' : 'Show more clients'}
        </button>
      )}
    </>
  );
}
