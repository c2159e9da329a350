import { api } from '../../api/client';
import { unwrap } from '../../api/result';
import type { paths } from '../../api/schema';

export type ClientPage = paths['/api/v1/clients']['get']['responses'][200]['content']['application/json'];
export type ClientInCare = ClientPage['items'][number];

/** One page of the signed-in therapist's clients in active care, newest relationship first. */
export function fetchClients(cursor: string | null): Promise<ClientPage> {
  return unwrap(api.GET('/api/v1/clients', { params: { query: { limit: 50, ...(cursor && { cursor }) } } }));
}
