import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { formatDateTime } from '../../lib/time';
import { ROLE_LABEL, roleInSentence } from './labels';
import { changeMemberRole, deactivateMember, listMembers, reactivateMember } from './teamApi';
import type { Deactivation, InvitedRole, Member, RoleChange } from './types';

/** What the admin is about to do to a member, asked to confirm first. */
type Change = { kind: 'remove' | 'reactivate' | 'role'; member: Member };

/** A member's other role: the one a role change gives them. */
function otherRole(role: InvitedRole): InvitedRole {
  return role === 'therapist' ? 'practice_admin' : 'therapist';
}

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

/** What bringing `member` back does and does not undo. */
function reactivationConsequences(member: Member): string {
  const common = `${member.display_name} can sign in again with their password.`;
  if (member.role !== 'therapist') return common;
  return (
    `${common} They are listed, matched and bookable again. The care relationships and the waitlist entries their ` +
    `removal ended stay ended: former clients come back to them by booking or matching, as any client would.`
  );
}

/** What giving `member` the other role does, said before the admin confirms it. */
function roleConsequences(member: Member, self: boolean): string {
  const role = roleInSentence(otherRole(member.role));
  const signedOut = self
    ? `You will be signed out everywhere at once, and sign in again as ${role}.`
    : `${member.display_name} is signed out everywhere at once, and signs in again as ${role}.`;
  if (member.role !== 'therapist') return signedOut;
  return (
    `${signedOut} They are no longer listed, matched or bookable, and their waitlist closes (each client on it is ` +
    `told by email). A therapist who has had clients stays a therapist: their records need one.`
  );
}

function roleMessage(result: RoleChange): string {
  const { member, waitlist_entries_closed: closed } = result;
  const waitlist =
    closed > 0 ? ` ${closed} waitlist ${closed === 1 ? 'entry' : 'entries'} closed; each client is told by email.` : '';
  return `${member.display_name} is now ${roleInSentence(member.role)}; they sign in again to use it.${waitlist}`;
}

/** The confirmation's words for `change`. */
function question({ kind, member }: Change, self: boolean) {
  const name = member.display_name;
  if (kind === 'remove') {
    return {
      heading: `Remove ${name}?`,
      consequences: consequences(member, self),
      confirm: `Remove ${name}`,
      pending: 'Removing…',
      cancel: 'Keep them',
    };
  }
  if (kind === 'reactivate') {
    return {
      heading: `Reactivate ${name}?`,
      consequences: reactivationConsequences(member),
      confirm: `Reactivate ${name}`,
      pending: 'Reactivating…',
      cancel: 'Cancel',
    };
  }
  const role = roleInSentence(otherRole(member.role));
  return {
    heading: `Make ${name} ${role}?`,
    consequences: roleConsequences(member, self),
    confirm: `Make ${name} ${role}`,
    pending: 'Changing the role…',
    cancel: 'Keep their role',
  };
}

/**
 * The practice's members with their role and status, and the actions that remove one who leaves, bring a removed one
 * back and change a member's role, each confirmed first.
 */
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
  const [confirming, setConfirming] = useState<Change | null>(null);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const change = useMutation({
    mutationFn: async ({ kind, member }: Change): Promise<string> => {
      if (kind === 'remove') return removedMessage(await deactivateMember(practiceId, member.id));
      if (kind === 'reactivate') {
        const back = await reactivateMember(practiceId, member.id);
        const bookable = back.role === 'therapist' ? ' They are listed and bookable again.' : '';
        return `${back.display_name} can sign in again.${bookable}`;
      }
      return roleMessage(await changeMemberRole(practiceId, member.id, otherRole(member.role)));
    },
    onSuccess: (message) => {
      setConfirming(null);
      onStatus(message);
      void queryClient.invalidateQueries({ queryKey: listKey });
    },
  });

  useEffect(() => {
    if (confirming) confirmHeading.current?.focus();
  }, [confirming]);

  function ask(kind: Change['kind'], member: Member) {
    change.reset();
    onStatus('');
    setConfirming({ kind, member });
  }

  const list = members.data ?? [];
  const asked = confirming ? question(confirming, confirming.member.id === myId) : null;
  return (
    <section aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <QueryState isPending={members.isPending} error={members.error} what="the members" />
      {confirming && asked && (
        <div className="confirm">
          <h3 ref={confirmHeading} tabIndex={-1}>
            {asked.heading}
          </h3>
          <p>{asked.consequences}</p>
          <ErrorAlert error={change.error} />
          <div className="actions">
            <button
              type="button"
              className={confirming.kind === 'remove' ? 'danger' : undefined}
              disabled={change.isPending}
              onClick={() => change.mutate(confirming)}
            >
              {change.isPending ? asked.pending : asked.confirm}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(null)}>
              {asked.cancel}
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
              {list.map((member) => {
                const other = ROLE_LABEL[otherRole(member.role)].toLowerCase();
                return (
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
                      <div className="actions">
                        {member.status === 'active' ? (
                          <>
                            <button
                              type="button"
                              onClick={() => ask('role', member)}
                              disabled={change.isPending}
                              aria-label={`Change the role of ${member.display_name} to ${other}`}
                            >
                              Make {other}
                            </button>
                            <button
                              type="button"
                              onClick={() => ask('remove', member)}
                              disabled={change.isPending}
                              aria-label={`Remove ${member.display_name} from the practice`}
                            >
                              Remove
                            </button>
                          </>
                        ) : (
                          <button
                            type="button"
                            onClick={() => ask('reactivate', member)}
                            disabled={change.isPending}
                            aria-label={`Reactivate ${member.display_name}’s account`}
                          >
                            Reactivate
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
