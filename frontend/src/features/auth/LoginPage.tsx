import { useSyncExternalStore, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { onSessionEndReason, sessionEndReason, type SessionEnd } from '../../api/session';
import { ErrorAlert } from '../../components/ErrorAlert';
import { TextField } from '../../components/TextField';
import { homePathFor } from './homePath';
import type { Role } from './types';
import { useLogIn, useMe } from './useAuth';

interface LoginState {
  from?: string;
  signedOut?: boolean;
}

const ENDED: Record<SessionEnd, string> = {
  signed_out: 'You have been signed out.',
  expired: 'Your session has ended. Please log in again.',
  idle: 'You were signed out after a period of inactivity. Please log in again.',
};

/** Back to the page that sent the user here, if it belongs to their area; else their area's start. */
function landingFor(role: Role, from: string | undefined): string {
  const home = homePathFor(role);
  return from && home !== '/' && from.startsWith(home) ? from : home;
}

export function LoginPage() {
  const me = useMe();
  const logIn = useLogIn();
  const navigate = useNavigate();
  const state = (useLocation().state ?? {}) as LoginState;
  const ended = useSyncExternalStore(onSessionEndReason, sessionEndReason) ?? (state.signedOut ? 'signed_out' : null);

  // Already signed in (or just signed in): go where the submit handler would go, so both agree.
  if (me.data) return <Navigate to={landingFor(me.data.role, state.from)} replace />;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const totp = String(form.get('totp') ?? '').trim();
    logIn.mutate(
      { username: String(form.get('username')), password: String(form.get('password')), ...(totp && { totp }) },
      { onSuccess: (user) => navigate(landingFor(user.role, state.from), { replace: true }) },
    );
  }

  return (
    <>
      <title>Log in · Hearth</title>
      <h1>Log in</h1>
      {ended && !logIn.isError && <p role="status">{ENDED[ended]}</p>}
      <ErrorAlert error={logIn.error} />
      <form onSubmit={onSubmit}>
        <TextField label="Email" name="username" type="email" autoComplete="username" required />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" required />
        <TextField
          label="Authentication code"
          name="totp"
          hint="Only if you turned on two-step sign-in."
          inputMode="numeric"
          autoComplete="one-time-code"
        />
        <button type="submit" disabled={logIn.isPending}>
          {logIn.isPending ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New to Hearth? <Link to="/register">Create an account</Link>
      </p>
    </>
  );
}
