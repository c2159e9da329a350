import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { formatDateTime } from '../../lib/time';
import { ROLE_LABEL } from './labels';
import { deactivateMember, listMembers } from './teamApi';
import type { Deactivation, Member } from './types';

/** What removing `member` does, said before the admin confirms it. */
function consequences(member: Member, self: boolean): string {
  const common = self
    ? 'You will be signed out everywhere at once and can no longer sign in.'
    : `${member.display_name} is signed out everywhere at once and can no longer sign in.`;
  const records = 'Nothing the practice recorded is deleted.';
  if (member.role !== 'therapist') return `${common} ${records}`;
  return (
    `${common} Their clients' care with them ends: their conversations stay readable but closed, and clients with ` +
    `no other therapist wait in the practice's matching queue again, their plan going to whoever you assign. ` +
    `Their waitlist closes, and each client on it is told by email. ` +
    `${records} Sessions still booked with them must be moved or cancelled first.`
  );
}

function removedMessage(result: Deactivation): string {
  const { member, care_ended: ended, clients_queued: queued, waitlist_entries_closed: closed } = result;
  const waitlist =
    closed > 0
      ? ` ${closed} waitlist ${closed === 1 ? 'entry' : 'entries'} closed; ${closed === 1 ? 'the client is' : 'each client is'} told by email.`
      : '';
  const care =
    member.role === 'therapist'
      ? ` ${ended} care ${ended === 1 ? 'relationship' : 'relationships'} ended; ${queued} ${queued === 1 ? 'client waits' : 'clients wait'} in the matching queue.${waitlist}`
      : '';
  return `${member.display_name} was removed from the practice.${care}`;
}

/** The practice's members with their role and status, and the action that removes one who leaves. */
export function MembersSection({
  practiceId,
  myId,
  zone,
  onStatus,
}: {
  practiceId: string;
  myId: string;
  zone: string;
  onStatus: (message: string) => void;
}) {
  const queryClient = useQueryClient();
  const listKey = ['team', 'members', practiceId];
  const members = useQuery({ queryKey: listKey, queryFn: () => listMembers(practiceId), enabled: Boolean(practiceId) });
  const [confirming, setConfirming] = useState<Member | null>(null);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const remove = useMutation({
    mutationFn: (member: Member) => deactivateMember(practiceId, member.id),
    onSuccess: (result) => {
      setConfirming(null);
      onStatus(removedMessage(result));
      void queryClient.invalidateQueries({ queryKey: listKey });
    },
  });

  useEffect(() => {
    if (confirming) confirmHeading.current?.focus();
  }, [confirming]);

  function ask(member: Member) {
    remove.reset();
    onStatus('');
    setConfirming(member);
  }

  const list = members.data ?? [];
  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <QueryState isPending={members.isPending} error={members.error} what="the members" />
      {confirming && (
        <div className="confirm">
          <h3 ref={confirmHeading} tabIndex={-1}>
            Remove {confirming.display_name}?
          </h3>
          <p>{consequences(confirming, confirming.id === myId)}</p>
          <ErrorAlert error={remove.error} />
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate(confirming)}
            >
              {remove.isPending ? 'Removing…' : `Remove ${confirming.display_name}`}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
              Keep them
            </button>
          </div>
        </div>
      )}
      {list.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((member) => (
                <tr key={member.id}>
                  <td>
                    {member.display_name}
                    {member.id === myId && ' (you)'}
                  </td>
                  <td>{member.email}</td>
                  <td>{ROLE_LABEL[member.role]}</td>
                  <td>
                    {member.status === 'active'
                      ? 'Active'
                      : `Removed ${member.deactivated_at ? formatDateTime(member.deactivated_at, zone) : ''}`}
                  </td>
                  <td>
                    {member.status === 'active' && (
                      <button
                        type="button"
                        onClick={() => ask(member)}
                        disabled={remove.isPending}
                        aria-label={`Remove ${member.display_name} from the practice`}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
