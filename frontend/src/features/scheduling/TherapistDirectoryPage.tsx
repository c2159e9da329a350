import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { formatMoney, languageName, modalityLabel } from './labels';
import { schedulingKeys } from './queries';
import { fetchTherapists } from './schedulingApi';
import type { PublicProfile } from './types';

/** "From $60" for the cheapest offered length, when the therapist shows prices. */
export function lowestRate(therapist: PublicProfile): string | null {
  const cheapest = [...therapist.rates].sort((a, b) => a.amount_minor - b.amount_minor)[0];
  return cheapest ? formatMoney(cheapest.amount_minor, cheapest.currency) : null;
}

export function TherapistDirectoryPage() {
  const directory = useInfiniteQuery({
    queryKey: schedulingKeys.therapists,
    queryFn: ({ pageParam }) => fetchTherapists(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const therapists = directory.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <title>Find a therapist · Hearth</title>
      <h1>Find a therapist</h1>
      <p>Therapists who are accepting new clients. Open one to see their profile and free times.</p>
      <QueryState isPending={directory.isPending} error={directory.error} what="therapists" />
      <StatusMessage>
        {directory.data && (
          <p>
            {therapists.length === 0
              ? 'No therapist is accepting new clients right now.'
              : `Showing ${therapists.length} ${therapists.length === 1 ? 'therapist' : 'therapists'}${directory.hasNextPage ? ' (more available)' : ''}.`}
          </p>
        )}
      </StatusMessage>
      <ul className="cards" aria-label="Therapists">
        {therapists.map((therapist) => {
          const rate = lowestRate(therapist);
          return (
            <li key={therapist.therapist_id} className="card">
              <h2 className="card-title">
                <Link to={`/client/therapists/${therapist.therapist_id}`}>{therapist.display_name}</Link>
              </h2>
              {therapist.specialties.length > 0 && <p>{therapist.specialties.join(', ')}</p>}
              <p className="muted">
                {therapist.modalities.map(modalityLabel).join(', ')} · {therapist.session_lengths.join(', ')} minutes
                {therapist.languages.length > 0 && ` · ${therapist.languages.map(languageName).join(', ')}`}
                {rate && ` · from ${rate}`}
              </p>
            </li>
          );
        })}
      </ul>
      {directory.hasNextPage && (
        <button type="button" onClick={() => void directory.fetchNextPage()} disabled={directory.isFetchingNextPage}>
          {directory.isFetchingNextPage ? 'Loading…' : 'Show more therapists'}
        </button>
      )}
    </>
  );
}
