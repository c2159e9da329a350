import { QueryState } from '../../components/QueryState';
import { ratingLabel } from './labels';
import { ItemStatusBadge, goalHistory, shortDate } from './PlanSummary';
import { usePlan } from './queries';

/** Each goal's ratings from signed notes, over time (the therapist's view, with the notes' comments). */
export function ProgressTab({ clientId }: { clientId: string }) {
  const plan = usePlan(clientId);
  if (plan.isPending || plan.error) return <QueryState isPending={plan.isPending} error={plan.error} what="the progress" />;
  if (!plan.data) return <p>No plan yet: progress is recorded against the plan&rsquo;s goals when you sign a session note.</p>;
  const { document, progress } = plan.data.data;
  const goals = document.goals ?? [];
  if (goals.length === 0) return <p>The plan has no goals yet.</p>;
  return (
    <>
      <p>Ratings come from signed session notes, newest first.</p>
      {goals.map((goal) => {
        const history = goalHistory(progress, goal.id);
        return (
          <section key={goal.id} aria-label={`Progress on ${goal.text}`} className="goal-progress">
            <h3>
              {goal.text} <ItemStatusBadge status={goal.status} />
            </h3>
            {history.length === 0 ? (
              <p className="muted">No ratings yet.</p>
            ) : (
              <div className="table-scroll">
                <table>
                  <caption>Progress ratings for “{goal.text}”</caption>
                  <thead>
                    <tr>
                      <th scope="col">Session date</th>
                      <th scope="col">Rating</th>
                      <th scope="col">Comment</th>
                    </tr>
                  </thead>
                  <tbody>
                    {history.map((entry) => (
                      <tr key={`${entry.note_id}-${entry.recorded_at}`}>
                        <td>{shortDate(entry.on)}</td>
                        <td>
                          <span className={`rating rating-${entry.rating}`}>{ratingLabel(entry.rating)}</span>
                        </td>
                        <td>{entry.comment || <span className="muted">—</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </>
  );
}
