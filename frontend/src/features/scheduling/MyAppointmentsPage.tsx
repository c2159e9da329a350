import { useState } from 'react';
import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDayLong, formatTime, localDate, zoneCity } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { isCancelled, modalityLabel, statusLabel } from './labels';
import { useAppointmentPages, useTherapists } from './queries';
import type { Appointment, PublicProfile } from './types';

export function StatusBadge({ status }: { status: Appointment['status'] }) {
  return <span className={`badge status-${status}`}>{statusLabel(status)}</span>;
}

/** How far back the upcoming list starts, so a session under way (started, not yet ended) is still upcoming. */
const LONGEST_SESSION_MS = 24 * 3_600_000;

export function MyAppointmentsPage() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [now] = useState(() => Date.now());
  // Two lists paged from where the eye starts (the next session, the latest past one), so a long history never
  // pushes either out of what is loaded.
  const ahead = useAppointmentPages({ start: new Date(now - LONGEST_SESSION_MS).toISOString(), order: 'oldest_first' });
  const behind = useAppointmentPages({ end: new Date(now).toISOString(), order: 'newest_first' });
  const upcoming = (ahead.data?.pages.flatMap((page) => page.items) ?? []).filter((a) => Date.parse(a.end) > now);
  const past = (behind.data?.pages.flatMap((page) => page.items) ?? []).filter((a) => Date.parse(a.end) <= now);
  const therapists = useTherapists([...upcoming, ...past].map((a) => a.therapist_id));

  return (
    <>
      <title>My appointments · Hearth</title>
      <h1>My appointments</h1>
      <p>
        Times are in your time zone ({zone}). <Link to="/client/therapists">Book a session</Link>
      </p>
      <QueryState
        isPending={ahead.isPending || behind.isPending}
        error={ahead.error ?? behind.error}
        what="your appointments"
      />
      {ahead.data && behind.data && (
        <>
          <section aria-labelledby="upcoming-heading">
            <h2 id="upcoming-heading">Upcoming</h2>
            {upcoming.length === 0 ? (
              <p>No upcoming sessions.</p>
            ) : (
              <AppointmentList appointments={upcoming} zone={zone} therapists={therapists} label="Upcoming sessions" />
            )}
            {ahead.hasNextPage && (
              <button type="button" onClick={() => void ahead.fetchNextPage()} disabled={ahead.isFetchingNextPage}>
                {ahead.isFetchingNextPage ? 'Loading…' : 'Show later sessions'}
              </button>
            )}
          </section>
          {past.length > 0 && (
            <section aria-labelledby="past-heading">
              <h2 id="past-heading">Past</h2>
              <AppointmentList appointments={past} zone={zone} therapists={therapists} label="Past sessions" />
              {behind.hasNextPage && (
                <button type="button" onClick={() => void behind.fetchNextPage()} disabled={behind.isFetchingNextPage}>
                  {behind.isFetchingNextPage ? 'Loading…' : 'Show earlier sessions'}
                </button>
              )}
            </section>
          )}
        </>
      )}
    </>
  );
}

function AppointmentList({
  appointments,
  zone,
  therapists,
  label,
}: {
  appointments: Appointment[];
  zone: string;
  therapists: Map<string, PublicProfile>;
  label: string;
}) {
  return (
    <ul className="cards" aria-label={label}>
      {appointments.map((appointment) => {
        const therapist = therapists.get(appointment.therapist_id);
        const theirZone = therapist?.timezone;
        return (
          <li key={appointment.id} className={`card appointment${isCancelled(appointment.status) ? ' is-cancelled' : ''}`}>
            <h3 className="card-title">
              <Link to={`/client/appointments/${appointment.id}`}>
                {formatDayLong(appointment.start, zone)}, {formatTime(appointment.start, zone)}–
                {formatTime(appointment.end, zone)}
              </Link>
            </h3>
            <p>
              {appointment.duration_minutes} minutes · {modalityLabel(appointment.modality)} · with{' '}
              {therapist?.display_name ?? 'your therapist'}
            </p>
            {theirZone && theirZone !== zone && (
              <p className="muted">
                {formatTime(appointment.start, theirZone)}
                {localDate(appointment.start, theirZone) !== localDate(appointment.start, zone) &&
                  ` on ${formatDayLong(appointment.start, theirZone)}`}{' '}
                in {zoneCity(theirZone)} (therapist&rsquo;s time)
              </p>
            )}
            <p>
              <StatusBadge status={appointment.status} />
            </p>
          </li>
        );
      })}
    </ul>
  );
}
