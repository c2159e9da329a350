import { useSyncExternalStore } from 'react';
import { hasConnectionTrouble, onConnectionTrouble } from '../api/session';

/**
 * Says so while renewing the sign-in keeps failing (server unreachable, restarting, rate-limited). The user stays
 * signed in meanwhile; the notice goes once a refresh gets through. A polite live region, mounted while empty.
 */
export function ConnectionProblemNotice() {
  const trouble = useSyncExternalStore(onConnectionTrouble, hasConnectionTrouble);
  return (
    <div className="status connection-problem" role="status" aria-live="polite" aria-atomic="true">
      {trouble && <p>Connection problem: Hearth cannot be reached right now. Trying again…</p>}
    </div>
  );
}
