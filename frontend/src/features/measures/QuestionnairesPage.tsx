import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDateTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { instrumentName } from '../plans/labels';
import { useAssignments } from './queries';
import type { Assignment } from './types';

/** Due first (the longest-due at the top), then those due later by date, then those with nothing pending. */
function byUrgency(a: Assignment, b: Assignment): number {
  const rank = (x: Assignment) => (x.due_now ? 0 : x.due_at ? 1 : 2);
  return rank(a) - rank(b) || (a.due_at ?? '').localeCompare(b.due_at ?? '');
}

/** The client's questionnaires: what to answer now, and when the next ones come. */
export function QuestionnairesPage() {
  const me = useMe().data;
  const zone = useViewerZone();
  const assignments = useAssignments(me?.id);
  const active = (assignments.data ?? []).filter((a) => !a.ended_at).sort(byUrgency);
  const due = active.filter((a) => a.due_now);
  const later = active.filter((a) => !a.due_now);
  return (
    <>
      <title>Questionnaires · Hearth</title>
      <h1>Questionnaires</h1>
      <p>
        Short check-ins your therapist asked you to fill in. Your answers help you both see how things change over
        time; you can see your results under <Link to="/client/scores">My scores</Link>.
      </p>
      <QueryState isPending={assignments.isPending} error={assignments.error} what="your questionnaires" />
      {assignments.data && (
        <>
          <section aria-labelledby="due-heading">
            <h2 id="due-heading">To answer now</h2>
            {due.length === 0 ? (
              <p>Nothing to answer right now.</p>
            ) : (
              <ul className="cards" aria-label="Questionnaires to answer now">
                {due.map((a) => (
                  <li key={a.id} className="card">
                    <h3 className="card-title">
                      <Link to={`/client/questionnaires/${a.id}`}>Answer the {instrumentName(a.instrument)}</Link>
                    </h3>
                    <p>
                      <span className="badge due">Due now</span>
                      {a.due_at && <> · since {formatDateTime(a.due_at, zone)}</>}
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </section>
          {later.length > 0 && (
            <section aria-labelledby="later-heading">
              <h2 id="later-heading">Coming up</h2>
              <ul className="cards" aria-label="Questionnaires coming up">
                {later.map((a) => (
                  <li key={a.id} className="card">
                    <p>
                      <strong>{instrumentName(a.instrument)}</strong> ·{' '}
                      {a.due_at ? `next on ${formatDateTime(a.due_at, zone)}` : 'nothing to answer for now'}
                    </p>
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </>
  );
}
