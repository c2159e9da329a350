import { formatCalendarDate } from '../../lib/time';
import { describeScoreTarget, itemStatusLabel, ratingLabel } from './labels';
import type { ItemStatus, PlanDocument, ProgressEntry } from './types';

export function ItemStatusBadge({ status }: { status: ItemStatus }) {
  return <span className={`badge item-${status}`}>{itemStatusLabel(status)}</span>;
}

export function shortDate(date: string): string {
  return formatCalendarDate(date, { dateStyle: 'medium' });
}

/** Progress ratings of one goal, newest first. */
export function goalHistory(progress: ProgressEntry[] | undefined, goalId: string): ProgressEntry[] {
  return (progress ?? [])
    .filter((entry) => entry.goal_id === goalId)
    .sort((a, b) => b.on.localeCompare(a.on) || b.recorded_at.localeCompare(a.recorded_at));
}

/**
 * A plan read-only: for the client, and for a therapist looking at an earlier version. `progress` adds each
 * goal's ratings from signed notes (the client's view carries no comments).
 */
export function PlanSummary({
  document,
  progress,
  headingLevel = 2,
}: {
  document: PlanDocument;
  progress?: ProgressEntry[];
  headingLevel?: 2 | 3 | 4;
}) {
  const H = `h${headingLevel}` as 'h2' | 'h3' | 'h4';
  const Sub = `h${headingLevel + 1}` as 'h3' | 'h4' | 'h5';
  const goals = document.goals ?? [];
  const problems = document.problems ?? [];
  const interventions = document.interventions ?? [];
  return (
    <div className="plan-summary">
      {problems.length > 0 && (
        <>
          <H>What we are working on</H>
          <ul>
            {problems.map((problem, i) => (
              <li key={i}>{problem}</li>
            ))}
          </ul>
        </>
      )}
      <H>Goals</H>
      {goals.length === 0 ? (
        <p>No goals yet.</p>
      ) : (
        <ol className="cards goals">
          {goals.map((goal) => {
            const history = progress ? goalHistory(progress, goal.id) : null;
            return (
              <li key={goal.id} className="card">
                <Sub className="card-title">{goal.text}</Sub>
                <p>
                  <ItemStatusBadge status={goal.status} />
                  {goal.target_date && <> · target {shortDate(goal.target_date)}</>}
                </p>
                {(goal.objectives ?? []).length > 0 && (
                  <>
                    <p className="muted">Objectives:</p>
                    <ul className="objectives">
                      {(goal.objectives ?? []).map((objective) => (
                        <li key={objective.id}>
                          {objective.text} <ItemStatusBadge status={objective.status} />
                          {(objective.score_target || objective.target_date) && ' · target: '}
                          {objective.score_target && describeScoreTarget(objective.score_target)}
                          {objective.target_date && <> {objective.score_target ? 'by' : ''} {shortDate(objective.target_date)}</>}
                        </li>
                      ))}
                    </ul>
                  </>
                )}
                {history && (
                  <div className="progress-history">
                    <p className="muted">Progress from your sessions:</p>
                    {history.length === 0 ? (
                      <p>No ratings yet.</p>
                    ) : (
                      <ul aria-label={`Progress on ${goal.text}`}>
                        {history.map((entry) => (
                          <li key={`${entry.note_id}-${entry.recorded_at}`}>
                            {shortDate(entry.on)}: <strong>{ratingLabel(entry.rating)}</strong>
                            {entry.comment && <> — {entry.comment}</>}
                          </li>
                        ))}
                      </ul>
                    )}
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {interventions.length > 0 && (
        <>
          <H>How we will work on it</H>
          <ul>
            {interventions.map((intervention, i) => (
              <li key={i}>
                {intervention.text}
                {intervention.frequency && <> · {intervention.frequency}</>}
              </li>
            ))}
          </ul>
        </>
      )}
      {document.review_date && (
        <p>
          <strong>Next review:</strong> {shortDate(document.review_date)}
        </p>
      )}
    </div>
  );
}
