import { useState, type CSSProperties, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import {
  addDays,
  formatCalendarDate,
  formatTime,
  isIsoDate,
  isoWeekday,
  localDate,
  localMinutes,
  mondayOf,
  zonedToUtc,
} from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { ClientName } from '../clients/clientNames';
import { isCancelled, modalityLabel, statusLabel } from './labels';
import { useAppointments, useMyOfficeHours, useTherapistZone } from './queries';
import type { Appointment, OfficeHours } from './types';

/** Short sessions are drawn at least this tall so their text fits; overlap is judged on the drawn size. */
const MIN_DRAWN_MINUTES = 60;
const DEFAULT_FIRST_HOUR = 8;
const DEFAULT_LAST_HOUR = 18;

interface Placed {
  appointment: Appointment;
  top: number; // minutes after local midnight
  bottom: number;
  lane: number;
  lanes: number;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Lays out one day's sessions in side-by-side lanes wherever their drawn boxes would overlap. */
function placeDay(appointments: Appointment[], day: string, zone: string): Placed[] {
  const items = appointments
    .map((appointment) => {
      const top = localMinutes(appointment.start, zone);
      const endsSameDay = localDate(appointment.end, zone) === day;
      const end = endsSameDay ? localMinutes(appointment.end, zone) : 24 * 60;
      return { appointment, top, bottom: Math.max(end, top + 5), drawnBottom: Math.max(end, top + MIN_DRAWN_MINUTES) };
    })
    .sort((a, b) => a.top - b.top || a.appointment.id.localeCompare(b.appointment.id));

  const placed: Placed[] = [];
  let cluster: (Placed & { drawnBottom: number })[] = [];
  let clusterEnd = -1;
  const flush = () => {
    const lanes = Math.max(1, ...cluster.map((p) => p.lane + 1));
    for (const p of cluster) placed.push({ appointment: p.appointment, top: p.top, bottom: p.bottom, lane: p.lane, lanes });
    cluster = [];
  };
  for (const item of items) {
    if (item.top >= clusterEnd) flush();
    const laneEnds: number[] = [];
    for (const p of cluster) laneEnds[p.lane] = Math.max(laneEnds[p.lane] ?? 0, p.drawnBottom);
    let lane = laneEnds.findIndex((end) => end <= item.top);
    if (lane === -1) lane = laneEnds.length;
    cluster.push({ ...item, lane, lanes: 1 });
    clusterEnd = Math.max(clusterEnd, item.drawnBottom);
  }
  flush();
  return placed;
}

function officeRangesFor(hours: OfficeHours | undefined, day: string): { start: number; end: number }[] {
  if (!hours) return [];
  const exception = hours.exceptions?.find((e) => e.date === day);
  const ranges = exception ? (exception.ranges ?? []) : hours.weekly.filter((r) => r.weekday === isoWeekday(day));
  return ranges.map((r) => ({ start: minutesOf(r.start), end: minutesOf(r.end) }));
}

export function WeekCalendarPage() {
  const me = useMe();
  // Wait for the account: its zone decides where each week starts and ends.
  if (me.isPending) return <p role="status">Loading your calendar…</p>;
  return <WeekCalendar />;
}

function WeekCalendar() {
  const zone = useTherapistZone();
  const me = useMe().data;
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const today = localDate(Date.now(), zone);
  const requested = params.get('week');
  const monday = mondayOf(isIsoDate(requested) ? requested : today);
  const days = Array.from({ length: 7 }, (_, i) => addDays(monday, i));
  const start = new Date(zonedToUtc(monday, 0, zone)).toISOString();
  const end = new Date(zonedToUtc(addDays(monday, 7), 0, zone)).toISOString();
  const appointments = useAppointments({ start, end });
  const officeHours = useMyOfficeHours().data;
  const [showCancelled, setShowCancelled] = useState(true);
  const [jumpTo, setJumpTo] = useState('');

  // While another week loads, show nothing rather than the previous week's sessions under this week's days.
  const loaded = appointments.isPlaceholderData ? [] : (appointments.data ?? []);
  const mine = loaded.filter((a) => !me || a.therapist_id === me.id);
  const shown = mine.filter((a) => showCancelled || !isCancelled(a.status));
  const byDay = new Map(days.map((day) => [day, shown.filter((a) => localDate(a.start, zone) === day)]));
  const cancelledCount = mine.filter((a) => isCancelled(a.status)).length;
  const activeCount = mine.length - cancelledCount;

  // Show 08:00–18:00, widened to every session of the week.
  let firstHour = DEFAULT_FIRST_HOUR;
  let lastHour = DEFAULT_LAST_HOUR;
  for (const a of shown) {
    const day = localDate(a.start, zone);
    const top = localMinutes(a.start, zone);
    const bottom = localDate(a.end, zone) === day ? localMinutes(a.end, zone) : 24 * 60;
    firstHour = Math.min(firstHour, Math.floor(top / 60));
    lastHour = Math.max(lastHour, Math.min(24, Math.ceil(Math.max(bottom, top + MIN_DRAWN_MINUTES) / 60)));
  }
  const hours = Array.from({ length: lastHour - firstHour }, (_, i) => firstHour + i);
  const shadeOfficeHours = officeHours?.timezone === zone;

  const weekTitle = new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', month: 'long', day: 'numeric', year: 'numeric' }).formatRange(
    Date.parse(`${monday}T12:00:00Z`),
    Date.parse(`${addDays(monday, 6)}T12:00:00Z`),
  );
  const weekLink = (date: string) => `/therapist/calendar?week=${date}`;

  function onJump(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (isIsoDate(jumpTo)) navigate(weekLink(mondayOf(jumpTo)));
  }

  return (
    <div className="wide">
      <title>{`Calendar, week of ${formatCalendarDate(monday, { month: 'short', day: 'numeric' })} · Hearth`}</title>
      <h1>Calendar</h1>
      <div className="calendar-toolbar">
        <nav aria-label="Weeks" className="week-nav">
          <Link className="button secondary" to={weekLink(addDays(monday, -7))}>
            Previous week
          </Link>
          <Link className="button secondary" to={weekLink(mondayOf(today))} aria-current={monday === mondayOf(today) ? 'date' : undefined}>
            This week
          </Link>
          <Link className="button secondary" to={weekLink(addDays(monday, 7))}>
            Next week
          </Link>
        </nav>
        <form className="jump" onSubmit={onJump} aria-label="Jump to a week">
          <label htmlFor="jump-date">Go to date</label>
          <input id="jump-date" type="date" value={jumpTo} onChange={(e) => setJumpTo(e.target.value)} required />
          <button type="submit" className="secondary">
            Show week
          </button>
        </form>
        <label className="choice">
          <input type="checkbox" checked={showCancelled} onChange={(e) => setShowCancelled(e.target.checked)} /> Show
          cancelled sessions
        </label>
      </div>
      <h2 id="week-heading">Week of {weekTitle}</h2>
      <p className="hint">Times in your time zone ({zone}).</p>
      <QueryState isPending={appointments.isPending} error={appointments.error} what="this week’s sessions" />
      <StatusMessage>
        {appointments.isPlaceholderData && <p>Loading the week of {weekTitle}…</p>}
        {appointments.data && !appointments.isPlaceholderData && (
          <p>
            {activeCount === 0 ? 'No sessions' : `${activeCount} ${activeCount === 1 ? 'session' : 'sessions'}`} in the
            week of {weekTitle}
            {cancelledCount > 0 && `, ${cancelledCount} cancelled`}.
          </p>
        )}
      </StatusMessage>
      <div
        className="week-grid"
        aria-labelledby="week-heading"
        role="group"
        aria-busy={appointments.isFetching}
        style={{ '--hours': hours.length } as CSSProperties}
      >
        <div className="time-gutter" aria-hidden="true">
          {hours.map((hour) => (
            <div key={hour} className="hour-label">
              {formatTime(zonedToUtc(monday, hour * 60, 'UTC'), 'UTC')}
            </div>
          ))}
        </div>
        {days.map((day) => {
          const dayItems = byDay.get(day) ?? [];
          const placed = placeDay(dayItems, day, zone);
          const headingId = `day-${day}`;
          const offset = firstHour * 60;
          const span = hours.length * 60;
          return (
            <section key={day} className={`day-column${day === today ? ' is-today' : ''}`} aria-labelledby={headingId}>
              <h3 id={headingId} className="day-heading">
                <span className="day-name">{formatCalendarDate(day, { weekday: 'short' })}</span>{' '}
                <span className="day-date">{formatCalendarDate(day, { month: 'short', day: 'numeric' })}</span>
                <span className="visually-hidden">
                  {`, ${formatCalendarDate(day, { weekday: 'long' })}`}
                  {day === today && ', today'}
                  {`, ${dayItems.length === 0 ? 'no sessions' : `${dayItems.length} ${dayItems.length === 1 ? 'session' : 'sessions'}`}`}
                </span>
              </h3>
              <div className="day-body">
                {shadeOfficeHours &&
                  officeRangesFor(officeHours, day).map((r) => {
                    const top = Math.max(r.start, offset);
                    const bottom = Math.min(r.end, offset + span);
                    if (bottom <= top) return null;
                    return (
                      <div
                        key={`${r.start}-${r.end}`}
                        className="office-hours"
                        aria-hidden="true"
                        style={{ top: `${((top - offset) / span) * 100}%`, height: `${((bottom - top) / span) * 100}%` }}
                      />
                    );
                  })}
                {placed.length === 0 && (
                  <p className="day-empty" aria-hidden="true">
                    No sessions
                  </p>
                )}
                {placed.length > 0 && (
                  <ol className="day-events">
                    {placed.map(({ appointment: a, top, bottom, lane, lanes }) => (
                      <li
                        key={a.id}
                        className={`event modality-${a.modality} status-${a.status}${isCancelled(a.status) ? ' is-cancelled' : ''}`}
                        style={{
                          top: `${((top - offset) / span) * 100}%`,
                          minHeight: `${(MIN_DRAWN_MINUTES / span) * 100}%`,
                          height: `${((bottom - top) / span) * 100}%`,
                          left: `${(lane / lanes) * 100}%`,
                          width: `${100 / lanes}%`,
                        }}
                      >
                        <Link to={`/therapist/appointments/${a.id}`}>
                          <span className="event-time">
                            {formatTime(a.start, zone)}–{formatTime(a.end, zone)}
                          </span>{' '}
                          <span className="event-client"><ClientName id={a.client_id} /></span>{' '}
                          <span className="event-meta">
                            {a.duration_minutes} min · {modalityLabel(a.modality)}
                          </span>{' '}
                          <span className="event-status">{statusLabel(a.status)}</span>
                        </Link>
                      </li>
                    ))}
                  </ol>
                )}
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}
