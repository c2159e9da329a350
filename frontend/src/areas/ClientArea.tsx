import { Link } from 'react-router';
import { useMe } from '../features/auth/useAuth';
import { UpcomingSessions } from './UpcomingSessions';

/** The client's start page; booking, messages and check-ins hang below /client. */
export function ClientArea() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <>
      <title>Client area · Hearth</title>
      <h1>Client area</h1>
      <ul className="link-list">
        <li>
          <Link to="/client/intake">Get matched</Link>: answer a few questions and we suggest therapists who fit
        </li>
        <li>
          <Link to="/client/therapists">Find a therapist and book a session</Link>
        </li>
        <li>
          <Link to="/client/appointments">My appointments</Link>: reschedule or cancel
        </li>
        <li>
          <Link to="/client/plan">My plan</Link>: your goals and how they are going
        </li>
        <li>
          <Link to="/client/questionnaires">Questionnaires</Link>: check-ins your therapist asked you to fill in
        </li>
        <li>
          <Link to="/client/scores">My scores</Link>: your questionnaire results over time
        </li>
        <li>
          <Link to="/client/waitlist">Waitlist</Link>: times offered to you when a session frees up
        </li>
        <li>
          <Link to="/client/settings">Settings</Link>: time zone, phone for SMS reminders, calendar feed
        </li>
      </ul>
      <UpcomingSessions zone={zone} who="client" linkTo={(id) => `/client/appointments/${id}`} />
    </>
  );
}
