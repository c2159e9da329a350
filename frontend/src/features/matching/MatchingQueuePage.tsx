import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { useMe } from '../auth/useAuth';
import { OUTCOME } from './labels';
import { confirmBatch, fetchQueue, fetchTimeToMatch, previewBatch } from './matchingApi';
import type { BatchOut } from './types';

function Placements({ batch }: { batch: BatchOut }) {
  return (
    <table>
      <caption>
        {batch.confirmed ? 'Assigned' : 'Preview'}: {batch.assigned} of {batch.placements.length} clients, total score{' '}
        {batch.total_score}
      </caption>
      <thead>
        <tr>
          <th scope="col">Client</th>
          <th scope="col">Outcome</th>
          <th scope="col">Therapist</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {batch.placements.map((p) => (
          <tr key={p.match_id}>
            <td>{p.client_name}</td>
            <td>{OUTCOME[p.outcome] ?? p.outcome}</td>
            <td>{p.therapist_name ?? '—'}</td>
            <td>{p.reasons.join('; ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A practice admin's waiting queue: preview the best assignment within every therapist's room, then confirm it. */
export function MatchingQueuePage() {
  const practiceId = useMe().data?.practice_id ?? '';
  const queryClient = useQueryClient();
  const queueKey = ['matching', 'queue', practiceId];
  const queue = useQuery({ queryKey: queueKey, queryFn: () => fetchQueue(practiceId), enabled: Boolean(practiceId) });
  const report = useQuery({
    queryKey: ['matching', 'time-to-match', practiceId],
    queryFn: () => fetchTimeToMatch(practiceId),
    enabled: Boolean(practiceId),
  });
  const preview = useMutation({ mutationFn: () => previewBatch(practiceId) });
  const confirm = useMutation({
    mutationFn: () => confirmBatch(practiceId),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['matching'] }),
  });
  return (
    <>
      <title>Matching queue · Hearth</title>
      <h1>Matching queue</h1>
      <QueryState isPending={queue.isPending} error={queue.error} what="the queue" />
      {queue.data && (
        <>
          <p>{queue.data.length} clients waiting.</p>
          <ul aria-label="Waiting clients">
            {queue.data.map((item) => (
              <li key={item.match_id}>{item.client_name}</li>
            ))}
          </ul>
        </>
      )}
      <div className="actions">
        <button type="button" onClick={() => preview.mutate()} disabled={preview.isPending}>
          Preview assignment
        </button>
        <button type="button" onClick={() => confirm.mutate()} disabled={!preview.data || confirm.isPending}>
          Confirm assignment
        </button>
      </div>
      <ErrorAlert error={preview.error ?? confirm.error} />
      {confirm.data ? <Placements batch={confirm.data} /> : preview.data && <Placements batch={preview.data} />}
      {report.data && (
        <section aria-labelledby="ttm-heading">
          <h2 id="ttm-heading">Time to match</h2>
          <p>
            {report.data.matches} matches
            {report.data.median_hours !== null &&
              `; median ${report.data.median_hours} h, 90th percentile ${report.data.p90_hours} h`}
          </p>
        </section>
      )}
    </>
  );
}
