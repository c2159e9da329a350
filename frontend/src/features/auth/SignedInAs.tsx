import { useState } from 'react';
import { useNavigate } from 'react-router';
import { unsentMessageCount } from '../messaging/connection';
import { useLogOut } from './useAuth';
import type { Me } from './types';

export function SignedInAs({ me }: { me: Me }) {
  const logOut = useLogOut();
  const navigate = useNavigate();
  const [unsent, setUnsent] = useState(0);

  function signOut() {
    setUnsent(0);
    logOut.mutate(undefined, { onSettled: () => navigate('/login', { replace: true, state: { signedOut: true } }) });
  }

  // Signing out deletes messages not sent yet from this device (see messaging/outbox.ts): say so first, so the
  // user can stay signed in until they have gone out.
  async function requestSignOut() {
    const count = await unsentMessageCount();
    if (count > 0) setUnsent(count);
    else signOut();
  }

  return (
    <div className="signed-in">
      <p>
        Signed in as <strong>{me.display_name}</strong>
      </p>
      {unsent > 0 ? (
        <div role="alertdialog" aria-labelledby="unsent-warning" className="unsent-warning">
          <p id="unsent-warning">
            {unsent === 1 ? '1 message has' : `${unsent} messages have`} not been sent yet. Logging out deletes{' '}
            {unsent === 1 ? 'it' : 'them'} from this device, and {unsent === 1 ? 'it is' : 'they are'} never sent.
          </p>
          {/* The safe choice takes focus, as in any confirmation. */}
          <button type="button" onClick={() => setUnsent(0)} autoFocus>
            Stay signed in
          </button>{' '}
          <button type="button" onClick={signOut}>
            Log out anyway
          </button>
        </div>
      ) : (
        <button type="button" disabled={logOut.isPending} onClick={() => void requestSignOut()}>
          Log out
        </button>
      )}
    </div>
  );
}
