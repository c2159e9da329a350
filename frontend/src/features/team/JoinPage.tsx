import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { TextField } from '../../components/TextField';
import { TimeZoneField } from '../../components/TimeZoneField';
import { homePathFor } from '../auth/homePath';
import { signIn } from '../auth/useAuth';
import { roleInSentence } from './labels';
import { acceptInvitation, previewInvitation } from './teamApi';
import type { InvitationPreview } from './types';

/** Mirrors the server's rule so the browser can say so before a round trip; the server stays the authority. */
const MIN_PASSWORD_LENGTH = 12;

function JoinForm({ token, invitation }: { token: string; invitation: InvitationPreview }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const join = useMutation({
    mutationFn: async ({ displayName, password }: { displayName: string; password: string }) => {
      await acceptInvitation(token, { email: invitation.email, password, display_name: displayName, timezone });
      return signIn(queryClient, { username: invitation.email, password });
    },
    onSuccess: (me) => navigate(homePathFor(me.role), { replace: true }),
  });
  const error = join.error;
  // A used link after the account exists (a double submit, a second tab): logging in is what is left to do.
  const used = error instanceof ApiError && error.code === 'invitation_used';

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    join.mutate({ displayName: String(form.get('display_name')).trim(), password: String(form.get('password')) });
  }

  return (
    <>
      <ErrorAlert error={error} />
      {used && (
        <p>
          <Link to="/login">Log in</Link> with {invitation.email}.
        </p>
      )}
      <form onSubmit={onSubmit}>
        <p>You will log in with {invitation.email}.</p>
        <TextField
          label="Display name"
          name="display_name"
          autoComplete="name"
          hint="How clients and colleagues see you, e.g. with your credentials."
          required
          maxLength={120}
          error={fieldMessage(error, 'display_name')}
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
        <TimeZoneField
          name="timezone"
          hint="Used to show appointment times in your local time."
          value={timezone}
          onChange={setTimezone}
          error={fieldMessage(error, 'timezone')}
        />
        <button type="submit" disabled={join.isPending}>
          {join.isPending ? 'Creating your account…' : 'Create my account'}
        </button>
      </form>
    </>
  );
}

/** Where an invitation link lands: who invited whom, then the invitee's own account details. */
export function JoinPage() {
  const token = useSearchParams()[0].get('invitation') ?? '';
  const invitation = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => previewInvitation(token),
    enabled: token !== '',
    retry: false,
    // Accepting spends the link: a refetch afterwards would replace the page with "used".
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const data = invitation.data;
  return (
    <>
      <title>{data ? `Join ${data.practice_name} · Hearth` : 'Join a practice · Hearth'}</title>
      <h1>{data ? `Join ${data.practice_name}` : 'Join a practice'}</h1>
      {token === '' ? (
        <p>Open this page with the link from your invitation email.</p>
      ) : (
        <QueryState isPending={invitation.isPending} error={invitation.error} what="your invitation" />
      )}
      {data && (
        <>
          <p>
            {data.practice_name} invited <strong>{data.email}</strong> to join Hearth as {roleInSentence(data.role)}.
          </p>
          <JoinForm token={token} invitation={data} />
        </>
      )}
    </>
  );
}
