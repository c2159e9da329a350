import { Link } from 'react-router';
import { useAway } from './queries';

/** Reminds a therapist on their messaging pages that they are still marked away: every client who writes gets an
 * automatic reply until they turn it off, which is easy to forget after a holiday. */
export function AwayNotice() {
  const away = useAway();
  if (away.data !== true) return null;
  return (
    <p className="notice">
      You are marked away: a client who writes gets an automatic reply saying when you will answer.{' '}
      <Link to="/therapist/messages/settings">Change your away status</Link>
    </p>
  );
}
