import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { ApiError, fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { formatDateTime } from '../../lib/time';
import { randomUuid } from '../../lib/uuid';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { ROLE_LABEL } from './labels';
import { MembersSection } from './MembersSection';
import { invite, listInvitations, withdraw } from './teamApi';
import type { Invitation, InvitedRole } from './types';

const ROLES: InvitedRole[] = ['therapist', 'practice_admin'];

/**
 * A practice admin's team: the members, removing one who leaves, bringing them back, changing a role; inviting
 * therapists and admins by email, the open invitations, withdrawing them.
 */
export function TeamPage() {
  const me = useMe().data;
  const practiceId = me?.practice_id ?? '';
  const zone = useViewerZone();
  const queryClient = useQueryClient();
  const listKey = ['team', 'invitations', practiceId];
  const invitations = useQuery({
    queryKey: listKey,
    queryFn: () => listInvitations(practiceId),
    enabled: Boolean(practiceId),
  });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<InvitedRole>('therapist');
  const [status, setStatus] = useState('');
  // One key per invitation attempt: a retry after a lost answer replays it instead of emailing a second link.
  const attemptKey = useRef<string | null>(null);

  const send = useMutation({
    mutationFn: (target: { email: string; role: InvitedRole }) => {
      attemptKey.current ??= randomUuid();
      return invite(practiceId, target.email, target.role, attemptKey.current);
    },
    onSuccess: (sent) => {
      attemptKey.current = null;
      setEmail('');
      setStatus(`Invitation sent to ${sent.email}.`);
      void queryClient.invalidateQueries({ queryKey: listKey });
    },
    onError: (error) => {
      // The server answered, so this attempt is over. A network failure or a 5xx keeps the key: trying again
      // cannot send two links.
      if (error instanceof ApiError && error.status < 500 && error.code !== 'idempotency_in_progress') {
        attemptKey.current = null;
      }
    },
  });
  const revoke = useMutation({
    mutationFn: (invitation: Invitation) => withdraw(practiceId, invitation.id),
    onSuccess: (_, invitation) => {
      setStatus(`The invitation of ${invitation.email} was withdrawn; its link no longer works.`);
      void queryClient.invalidateQueries({ queryKey: listKey });
    },
  });

  function edit(change: () => void) {
    // Another address or role is another invitation, which must not reuse the key of the last attempt.
    attemptKey.current = null;
    send.reset();
    setStatus('');
    change();
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setStatus('');
    send.mutate({ email: email.trim(), role });
  }

  function sendAgain(invitation: Invitation) {
    attemptKey.current = null;
    setStatus('');
    send.mutate({ email: invitation.email, role: invitation.role });
  }

  const open = invitations.data ?? [];
  return (
    <>
      <title>Team · Hearth</title>
      <h1>Team</h1>
      <StatusMessage>{status}</StatusMessage>
      <MembersSection practiceId={practiceId} myId={me?.id ?? ''} zone={zone} onStatus={setStatus} />
      <section aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite someone</h2>
        <p>They get an email with a link to create their account in your practice. The link works once, for 7 days.</p>
        <ErrorAlert error={send.error} />
        <form onSubmit={onSubmit}>
          <TextField
            label="Email"
            name="email"
            type="email"
            autoComplete="off"
            required
            value={email}
            onChange={(event) => edit(() => setEmail(event.target.value))}
            error={fieldMessage(send.error, 'email')}
          />
          <fieldset>
            <legend>Role</legend>
            {ROLES.map((value) => (
              <label key={value} className="choice">
                <input
                  type="radio"
                  name="role"
                  value={value}
                  checked={role === value}
                  onChange={() => edit(() => setRole(value))}
                />{' '}
                {ROLE_LABEL[value]}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={send.isPending || !practiceId}>
            {send.isPending ? 'Sending…' : 'Send invitation'}
          </button>
        </form>
      </section>
      <section aria-labelledby="open-heading">
        <h2 id="open-heading">Open invitations</h2>
        <QueryState isPending={invitations.isPending} error={invitations.error} what="the invitations" />
        <ErrorAlert error={revoke.error} />
        {invitations.data && open.length === 0 && <p>No open invitations.</p>}
        {open.length > 0 && (
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Open invitations</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Link</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {open.map((invitation) => (
                  <tr key={invitation.id}>
                    <td>{invitation.email}</td>
                    <td>{ROLE_LABEL[invitation.role]}</td>
                    <td>
                      {invitation.status === 'expired' ? 'Expired' : 'Works until'}{' '}
                      {formatDateTime(invitation.expires_at, zone)}
                    </td>
                    <td>
                      <div className="actions">
                        <button
                          type="button"
                          onClick={() => sendAgain(invitation)}
                          disabled={send.isPending}
                          aria-label={`Send ${invitation.email} a new link`}
                        >
                          Send a new link
                        </button>
                        <button
                          type="button"
                          onClick={() => revoke.mutate(invitation)}
                          disabled={revoke.isPending}
                          aria-label={`Withdraw the invitation of ${invitation.email}`}
                        >
                          Withdraw
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
