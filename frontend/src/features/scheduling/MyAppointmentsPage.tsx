import { useState } from 'react';
import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { formatDayLong, formatTime, localDate, zoneCity } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { isCancelled, modalityLabel, statusLabel } from './labels';
import { useAppointments, useTherapists } from './queries';
import type { Appointment, PublicProfile } from './types';

export function StatusBadge({ status }: { status: Appointment['status'] }) {
  return <span className={`badge status-${status}`}>{statusLabel(status)}</span>;
}

export function MyAppointmentsPage() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const appointments = useAppointments({});
  const therapists = useTherapists((appointments.data ?? []).map((a) => a.therapist_id));
  const [now] = useState(() => Date.now());

  const all = appointments.data ?? [];
  const upcoming = all.filter((a) => Date.parse(a.end) > now).sort((a, b) => a.start.localeCompare(b.start));
  const past = all.filter((a) => Date.parse(a.end) <= now).sort((a, b) => b.start.localeCompare(a.start));

  return (
    <>
      <title>My appointments · Hearth</title>
      <h1>My appointments</h1>
      <p>
        Times are in your time zone ({zone}). <Link to="/client/therapists">Book a session</Link>
      </p>
      <QueryState isPending={appointments.isPending} error={appointments.error} what="your appointments" />
      {appointments.data && (
        <>
          <section aria-labelledby="upcoming-heading">
            <h2 id="upcoming-heading">Upcoming</h2>
            {upcoming.length === 0 ? (
              <p>No upcoming sessions.</p>
            ) : (
              <AppointmentList appointments={upcoming} zone={zone} therapists={therapists} label="Upcoming sessions" />
            )}
          </section>
          {past.length > 0 && (
            <section aria-labelledby="past-heading">
              <h2 id="past-heading">Past</h2>
              <AppointmentList appointments={past} zone={zone} therapists={therapists} label="Past sessions" />
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
