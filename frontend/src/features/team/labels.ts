import type { InvitedRole } from './types';

export const ROLE_LABEL: Record<InvitedRole, string> = {
  therapist: 'Therapist',
  practice_admin: 'Practice admin',
};

/** "a therapist", "a practice admin": the role inside a sentence. */
export function roleInSentence(role: InvitedRole): string {
  return `a ${ROLE_LABEL[role].toLowerCase()}`;
}
