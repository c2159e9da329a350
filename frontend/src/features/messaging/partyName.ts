import { useClientName } from '../clients/clientNames';
import { useTherapist } from '../scheduling/queries';
import type { Conversation } from './types';

/** What the viewer calls the other person: a client sees the therapist's name; a therapist sees the client's. */
export function usePartyName(conversation: Conversation | undefined, role: string | undefined): string {
  const therapist = useTherapist(role === 'client' ? conversation?.therapist_id : undefined);
  const client = useClientName(role === 'therapist' ? conversation?.client_id : undefined);
  if (!conversation) return 'Conversation';
  if (role === 'client') return therapist.data?.display_name ?? 'Your therapist';
  return client || 'Conversation';
}
