import { Link } from 'react-router';
import { useMe } from '../features/auth/useAuth';
import { useTherapistZone } from '../features/scheduling/queries';
import { UpcomingSessions } from './UpcomingSessions';

/** The therapist's start page; scheduling, clients and notes hang below /therapist. */
export function TherapistArea() {
  const me = useMe().data;
  const zone = useTherapistZone();
  return (
    <>
      <title>Therapist area · Hearth</title>
      <h1>Therapist area</h1>
      <ul className="link-list">
        <li>
          <Link to="/therapist/calendar">Calendar</Link>: your week of sessions
        </li>
        <li>
          <Link to="/therapist/clients">Clients</Link>: plans, progress, measures and notes for each client
        </li>
        <li>
          <Link to="/therapist/notes">Notes to write</Link>: completed sessions waiting for a signed note
        </li>
        <li>
          <Link to="/therapist/alerts">Safety alerts</Link>: clients who need your attention now
        </li>
        <li>
          <Link to="/therapist/profile">Profile</Link>: what clients see, session lengths, rates and ways to meet
        </li>
        <li>
          <Link to="/therapist/office-hours">Office hours</Link>: when clients can book you
        </li>
        <li>
          <Link to="/therapist/waitlist">Waitlist</Link>: clients waiting for a freed time
        </li>
        <li>
          <Link to="/therapist/settings">Settings</Link>: time zone, phone for SMS reminders, calendar feed
        </li>
      </ul>
      <UpcomingSessions
        zone={zone}
        who="therapist"
        onlyTherapist={me?.id}
        linkTo={(id) => `/therapist/appointments/${id}`}
      />
    </>
  );
}
