import { QueryState } from '../../components/QueryState';
import { formatDateTime } from '../../lib/time';
import { instrumentName } from '../plans/labels';
import { severityLabel } from './labels';
import { useTrend } from './queries';
import { TrendChart } from './TrendChart';
import type { InstrumentCode } from './types';

/** One instrument's scores over time: a chart with severity bands and the cut-off, and the same data as a table. */
export function TrendSection({
  clientId,
  instrument,
  zone,
  headingLevel = 3,
}: {
  clientId: string;
  instrument: InstrumentCode;
  zone: string;
  headingLevel?: 2 | 3 | 4;
}) {
  const trend = useTrend(clientId, instrument);
  const H = `h${headingLevel}` as 'h2' | 'h3' | 'h4';
  const name = instrumentName(instrument);
  const headingId = `trend-${instrument}-heading`;
  return (
    <section aria-labelledby={headingId} className="trend">
      <H id={headingId}>{name}</H>
      <QueryState isPending={trend.isPending} error={trend.error} what={`the ${name} scores`} />
      {trend.data &&
        (trend.data.points.length === 0 ? (
          <p>No {name} answers yet.</p>
        ) : (
          <>
            <TrendSummary
              latest={trend.data.points.at(-1)!}
              cutoff={trend.data.cutoff}
              change={trend.data.change}
              count={trend.data.points.length}
            />
            <figure className="chart">
              <TrendChart instrument={instrument} points={trend.data.points} cutoff={trend.data.cutoff} zone={zone} />
              <figcaption className="muted">
                Shaded bands are the severity ranges; the dashed line is the cut-off of {trend.data.cutoff}. The
                table below lists the same scores.
              </figcaption>
            </figure>
            <div className="table-scroll">
              <table>
                <caption>{name} scores (table view of the chart)</caption>
                <thead>
                  <tr>
                    <th scope="col">Answered</th>
                    <th scope="col">Total</th>
                    <th scope="col">Severity</th>
                    <th scope="col">Cut-off {trend.data.cutoff}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...trend.data.points].reverse().map((point) => (
                    <tr key={point.response_id}>
                      <td>{formatDateTime(point.completed_at, zone)}</td>
                      <td>{point.total}</td>
                      <td>{severityLabel(point.severity)}</td>
                      <td>{point.total < trend.data.cutoff ? 'Below' : 'At or above'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ))}
    </section>
  );
}

function TrendSummary({
  latest,
  cutoff,
  change,
  count,
}: {
  latest: { total: number; severity: string };
  cutoff: number;
  change: number | null;
  count: number;
}) {
  const direction = change === null || count < 2 ? null : change === 0 ? 'no change' : change < 0 ? `down ${-change}` : `up ${change}`;
  return (
    <p>
      Latest: <strong>{latest.total}</strong> ({severityLabel(latest.severity)}),{' '}
      {latest.total < cutoff ? 'below' : 'at or above'} the cut-off of {cutoff}.
      {direction && <> Since the first answer: {direction}.</>}
    </p>
  );
}
