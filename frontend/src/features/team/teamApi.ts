import { api, publicClient } from '../../api/client';
import { ensureOk, unwrap } from '../../api/result';
import { allPages } from '../../api/pages';
import type { Acceptance, Deactivation, Invitation, InvitationPreview, InvitedRole, Member, RoleChange } from './types';

/** The most pages one listing follows: 10 × 200 invitations or members, far more than a practice has. */
const MAX_PAGES = 10;

/** Emails the link; the same `idempotencyKey` again replays the first answer instead of sending a second email. */
export function invite(practiceId: string, email: string, role: InvitedRole, idempotencyKey: string): Promise<Invitation> {
  return unwrap(
    api.POST('/api/v1/practices/{practice_id}/invitations', {
      params: { path: { practice_id: practiceId }, header: { 'Idempotency-Key': idempotencyKey } },
      body: { email, role },
    }),
  );
}

/** The practice's open invitations (pending or expired), newest first. */
export function listInvitations(practiceId: string): Promise<Invitation[]> {
  return allPages(
    (query) => unwrap(api.GET('/api/v1/practices/{practice_id}/invitations', { params: { path: { practice_id: practiceId }, query } })),
    MAX_PAGES,
  );
}

/** The practice's therapists and admins, removed ones included, oldest account first. */
export function listMembers(practiceId: string): Promise<Member[]> {
  return allPages(
    (query) => unwrap(api.GET('/api/v1/practices/{practice_id}/members', { params: { path: { practice_id: practiceId }, query } })),
    MAX_PAGES,
  );
}

/** Removes a member: they can no longer sign in, and every session of theirs ends. */
export function deactivateMember(practiceId: string, userId: string): Promise<Deactivation> {
  return unwrap(
    api.POST('/api/v1/practices/{practice_id}/members/{user_id}/deactivate', {
      params: { path: { practice_id: practiceId, user_id: userId } },
    }),
  );
}

/** Brings a removed member back: they can sign in again; what their removal ended stays ended. */
export function reactivateMember(practiceId: string, userId: string): Promise<Member> {
  return unwrap(
    api.POST('/api/v1/practices/{practice_id}/members/{user_id}/reactivate', {
      params: { path: { practice_id: practiceId, user_id: userId } },
    }),
  );
}

/** Gives a member their one role; every session of theirs ends, so they sign in again with it. */
export function changeMemberRole(practiceId: string, userId: string, role: InvitedRole): Promise<RoleChange> {
  return unwrap(
    api.PUT('/api/v1/practices/{practice_id}/members/{user_id}/role', {
      params: { path: { practice_id: practiceId, user_id: userId } },
      body: { role },
    }),
  );
}

export function withdraw(practiceId: string, invitationId: string): Promise<void> {
  return ensureOk(
    api.DELETE('/api/v1/practices/{practice_id}/invitations/{invitation_id}', {
      params: { path: { practice_id: practiceId, invitation_id: invitationId } },
    }),
  );
}

/** Before the invitee has an account: the public client, which sends no token and never tries a refresh. */
export function previewInvitation(token: string): Promise<InvitationPreview> {
  return unwrap(publicClient.GET('/api/v1/invitations/{token}', { params: { path: { token } } }));
}

export async function acceptInvitation(token: string, acceptance: Acceptance): Promise<void> {
  await unwrap(publicClient.POST('/api/v1/invitations/{token}/accept', { params: { path: { token } }, body: acceptance }));
}
