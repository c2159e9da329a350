import { api, publicClient } from '../../api/client';
import { ensureOk, unwrap } from '../../api/result';
import type { Acceptance, Deactivation, Invitation, InvitationPreview, InvitedRole, Member } from './types';

/** The most pages one listing follows: 10 × 200 open invitations, far more than a practice sends. */
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

interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** Every item of a cursor-paginated listing, up to MAX_PAGES pages. */
async function allPages<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const found: Page<T> = await fetchPage(cursor);
    items.push(...found.items);
    cursor = found.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** The practice's open invitations (pending or expired), newest first. */
export function listInvitations(practiceId: string): Promise<Invitation[]> {
  return allPages((cursor) =>
    unwrap(
      api.GET('/api/v1/practices/{practice_id}/invitations', {
        params: { path: { practice_id: practiceId }, query: { limit: 200, ...(cursor && { cursor }) } },
      }),
    ),
  );
}

/** The practice's therapists and admins, removed ones included, oldest account first. */
export function listMembers(practiceId: string): Promise<Member[]> {
  return allPages((cursor) =>
    unwrap(
      api.GET('/api/v1/practices/{practice_id}/members', {
        params: { path: { practice_id: practiceId }, query: { limit: 200, ...(cursor && { cursor }) } },
      }),
    ),
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
