import { useNavigate } from 'react-router';
import { useLogOut } from './useAuth';
import type { Me } from './types';

export function SignedInAs({ me }: { me: Me }) {
  const logOut = useLogOut();
  const navigate = useNavigate();
  return (
    <div className="signed-in">
      <p>
        Signed in as <strong>{me.display_name}</strong>
      </p>
      <button
        type="button"
        disabled={logOut.isPending}
        onClick={() =>
          logOut.mutate(undefined, {
            onSettled: () => navigate('/login', { replace: true, state: { signedOut: true } }),
          })
        }
      >
        Log out
      </button>
    </div>
  );
}
