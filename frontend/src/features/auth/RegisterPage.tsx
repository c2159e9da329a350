import { useMemo, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { TextField } from '../../components/TextField';
import { homePathFor } from './homePath';
import type { RegistrationRole } from './types';
import { useRegister } from './useAuth';

/** Mirrors the server's rule so the browser can say so before a round trip; the server stays the authority. */
const MIN_PASSWORD_LENGTH = 12;

const ROLES: { value: RegistrationRole; label: string }[] = [
  { value: 'client', label: 'Client' },
  { value: 'therapist', label: 'Therapist' },
];

export function RegisterPage() {
  const register = useRegister();
  const navigate = useNavigate();
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = useMemo(() => Intl.supportedValuesOf('timeZone'), []);
  const error = register.error;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    register.mutate(
      {
        display_name: String(form.get('display_name')).trim(),
        email: String(form.get('email')).trim(),
        password: String(form.get('password')),
        role: form.get('role') as RegistrationRole,
        timezone: String(form.get('timezone')).trim(),
      },
      { onSuccess: (me) => navigate(homePathFor(me.role), { replace: true }) },
    );
  }

  return (
    <>
      <title>Create an account · Hearth</title>
      <h1>Create an account</h1>
      <ErrorAlert error={error} />
      <form onSubmit={onSubmit}>
        <fieldset>
          <legend>I am joining as</legend>
          {ROLES.map(({ value, label }) => (
            <label key={value} className="choice">
              <input type="radio" name="role" value={value} defaultChecked={value === 'client'} required /> {label}
            </label>
          ))}
        </fieldset>
        <TextField
          label="Display name"
          name="display_name"
          autoComplete="name"
          required
          maxLength={100}
          error={fieldMessage(error, 'display_name')}
        />
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          error={fieldMessage(error, 'email')}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD_LENGTH} characters. Common passwords are refused.`}
          minLength={MIN_PASSWORD_LENGTH}
          required
          error={fieldMessage(error, 'password')}
        />
        <TextField
          label="Time zone"
          name="timezone"
          list="time-zones"
          hint="Used to show appointment times in your local time."
          defaultValue={browserZone}
          required
          error={fieldMessage(error, 'timezone')}
        />
        <datalist id="time-zones">
          {zones.map((zone) => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        <button type="submit" disabled={register.isPending}>
          {register.isPending ? 'Creating account…' : 'Create account'}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </>
  );
}
