import { useId } from 'react';
import { formatDayShort, formatDateTime, formatTime, localDate } from '../../lib/time';
import { instrumentName } from '../plans/labels';
import { BANDS, MAX_TOTAL, severityLabel } from './labels';
import type { InstrumentCode, TrendPoint } from './types';

// A hand-made SVG chart: no chart library, and everything it shows is also in the table beside it.
const WIDTH = 680;
const HEIGHT = 280;
const MARGIN = { top: 12, right: 176, bottom: 36, left: 36 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** A sentence that says what the chart shows, for its accessible description. */
export function describeTrend(instrument: InstrumentCode, points: TrendPoint[], cutoff: number, zone: string): string {
  const name = instrumentName(instrument);
  if (points.length === 0) return `No ${name} scores yet.`;
  const first = points[0]!;
  const last = points.at(-1)!;
  const where = last.total < cutoff ? 'below' : 'at or above';
  const span =
    points.length === 1
      ? `one score, on ${formatDayShort(last.completed_at, zone)}`
      : `${points.length} scores from ${formatDayShort(first.completed_at, zone)} to ${formatDayShort(last.completed_at, zone)}`;
  return `${name} totals: ${span}. Latest ${last.total} (${severityLabel(last.severity)}), ${where} the cut-off of ${cutoff}.`;
}

export function TrendChart({
  instrument,
  points,
  cutoff,
  zone,
}: {
  instrument: InstrumentCode;
  points: TrendPoint[];
  cutoff: number;
  zone: string;
}) {
  const titleId = useId();
  const descId = useId();
  const max = MAX_TOTAL[instrument];
  const bands = BANDS[instrument];
  const y = (score: number) => MARGIN.top + PLOT_H - (score / max) * PLOT_H;

  const times = points.map((p) => Date.parse(p.completed_at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  // One point (or several at the same instant) sits in the middle; otherwise the first and last touch the edges.
  const x = (t: number) => MARGIN.left + (t1 === t0 ? PLOT_W / 2 : 12 + ((t - t0) / (t1 - t0)) * (PLOT_W - 24));
  const coords = points.map((p, i) => ({ point: p, cx: x(times[i]!), cy: y(p.total) }));

  // At most about six date labels, evenly picked, always the first and the last; times when all fall on one day.
  const oneDay = points.length > 0 && localDate(points[0]!.completed_at, zone) === localDate(points.at(-1)!.completed_at, zone);
  const tickText = (instant: string) => (oneDay && points.length > 1 ? formatTime(instant, zone) : formatDayShort(instant, zone));
  const step = Math.max(1, Math.ceil(coords.length / 6));
  const labelled = coords
    .filter((_, i) => i % step === 0 || i === coords.length - 1)
    .filter((c, i, all) => i === 0 || tickText(c.point.completed_at) !== tickText(all[i - 1]!.point.completed_at));

  const yTicks = Array.from(new Set([0, ...bands.map((b) => b.min), max]));

  return (
    <svg
      className="trend-chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby={`${titleId} ${descId}`}
      preserveAspectRatio="xMidYMid meet"
    >
      <title id={titleId}>{`${instrumentName(instrument)} scores over time`}</title>
      <desc id={descId}>{describeTrend(instrument, points, cutoff, zone)}</desc>

      {/* Severity bands, with their names at the right so colour is never the only cue. */}
      {bands.map((band, i) => {
        const top = i === bands.length - 1 ? max : bands[i + 1]!.min;
        const yTop = y(top);
        const yBottom = y(band.min);
        return (
          <g key={band.severity}>
            <rect x={MARGIN.left} y={yTop} width={PLOT_W} height={yBottom - yTop} fill={band.fill} />
            <line x1={MARGIN.left} x2={MARGIN.left + PLOT_W} y1={yTop} y2={yTop} stroke="#d0d5dd" strokeWidth={1} />
            <text x={MARGIN.left + PLOT_W + 8} y={(yTop + yBottom) / 2} dominantBaseline="middle" className="band-label">
              {band.label} ({band.min}–{i === bands.length - 1 ? max : top - 1})
            </text>
          </g>
        );
      })}

      {/* Axes */}
      <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={MARGIN.top + PLOT_H} stroke="#4b5563" />
      <line x1={MARGIN.left} x2={MARGIN.left + PLOT_W} y1={MARGIN.top + PLOT_H} y2={MARGIN.top + PLOT_H} stroke="#4b5563" />
      {yTicks.map((tick) => (
        <text key={tick} x={MARGIN.left - 6} y={y(tick)} textAnchor="end" dominantBaseline="middle" className="tick">
          {tick}
        </text>
      ))}
      {labelled.map(({ point, cx }) => (
        <text key={point.response_id} x={cx} y={MARGIN.top + PLOT_H + 18} textAnchor="middle" className="tick">
          {tickText(point.completed_at)}
        </text>
      ))}

      {/* The cut-off */}
      <line
        x1={MARGIN.left}
        x2={MARGIN.left + PLOT_W}
        y1={y(cutoff)}
        y2={y(cutoff)}
        stroke="#b42318"
        strokeWidth={2}
        strokeDasharray="6 4"
      />
      <text x={MARGIN.left + 6} y={y(cutoff) - 6} className="cutoff-label" paintOrder="stroke" stroke="#fff" strokeWidth={4}>
        Cut-off {cutoff}
      </text>

      {/* The scores */}
      {coords.length > 1 && (
        <polyline
          points={coords.map((c) => `${c.cx},${c.cy}`).join(' ')}
          fill="none"
          stroke="#1d4ed8"
          strokeWidth={2.5}
          strokeLinejoin="round"
        />
      )}
      {coords.map(({ point, cx, cy }) => (
        <circle key={point.response_id} cx={cx} cy={cy} r={5} fill="#fff" stroke="#1d4ed8" strokeWidth={2.5}>
          <title>{`${formatDateTime(point.completed_at, zone)}: ${point.total} (${severityLabel(point.severity)})`}</title>
        </circle>
      ))}
    </svg>
  );
}
