import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { INSTRUMENT_CODES } from './labels';
import { useScores } from './queries';
import { TrendSection } from './TrendSection';

/** The client's own scores over time, per questionnaire: chart and table. */
export function MyScoresPage() {
  const me = useMe().data;
  const zone = useViewerZone();
  const scores = useScores(me?.id);
  const answered = new Set((scores.data ?? []).map((s) => s.instrument));
  const instruments = INSTRUMENT_CODES.filter((code) => answered.has(code));
  return (
    <div className="chart-page">
      <title>My scores · Hearth</title>
      <h1>My scores</h1>
      <p>
        Your questionnaire totals over time. Lower is better on both questionnaires; scores under the cut-off of 10
        usually mean milder symptoms. Talk them through with your therapist.
      </p>
      <QueryState isPending={scores.isPending} error={scores.error} what="your scores" />
      {scores.data && instruments.length === 0 && (
        <p>
          No scores yet. <Link to="/client/questionnaires">See your questionnaires</Link>.
        </p>
      )}
      {me && instruments.map((code) => <TrendSection key={code} clientId={me.id} instrument={code} zone={zone} headingLevel={2} />)}
    </div>
  );
}
