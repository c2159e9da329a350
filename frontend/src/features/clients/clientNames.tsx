import { useQueries, useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { unwrap } from '../../api/result';
import { clientLabel } from '../scheduling/labels';

/** The most ids one lookup takes (the API's bound). */
const MAX_IDS = 100;
const STALE = 5 * 60_000;

export const clientNameKey = (clientId: string) => ['client-names', clientId] as const;

interface Waiter {
  resolve: (name: string | null) => void;
  reject: (error: unknown) => void;
}

let queued = new Map<string, Waiter[]>();
let scheduled = false;

/**
 * One client's display name, or null when the viewer may not read it. Every name asked for while a screen renders
 * goes in one request (a calendar week, a conversation list), never one request per row.
 */
function fetchClientName(clientId: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    queued.set(clientId, [...(queued.get(clientId) ?? []), { resolve, reject }]);
    if (!scheduled) {
      scheduled = true;
      setTimeout(lookUpQueued, 0);
    }
  });
}

function lookUpQueued() {
  const batch = queued;
  queued = new Map();
  scheduled = false;
  const ids = [...batch.keys()];
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const chunk = ids.slice(i, i + MAX_IDS);
    const waiters = (id: string) => batch.get(id) ?? [];
    unwrap(api.GET('/api/v1/clients/names', { params: { query: { id: chunk } } })).then(
      (answer) => {
        const names = new Map(answer.items.map((c) => [c.client_id, c.display_name]));
        for (const id of chunk) for (const w of waiters(id)) w.resolve(names.get(id) ?? null);
      },
      (error: unknown) => {
        for (const id of chunk) for (const w of waiters(id)) w.reject(error);
      },
    );
  }
}

function nameQuery(clientId: string) {
  return { queryKey: clientNameKey(clientId), queryFn: () => fetchClientName(clientId), staleTime: STALE };
}

/** What a therapist calls a client: their display name, "Client 1a2b3c" while it loads or if it cannot be read. */
export function useClientName(clientId: string | undefined): string {
  const name = useQuery({ ...nameQuery(clientId ?? ''), enabled: !!clientId });
  return name.data ?? (clientId ? clientLabel(clientId) : '');
}

/** The names of several clients at once (a list's rows, texts built from them), as `useClientName` gives each. */
export function useClientNames(clientIds: string[]): (clientId: string) => string {
  const unique = [...new Set(clientIds)];
  const found = useQueries({ queries: unique.map(nameQuery) });
  const names = new Map(unique.map((id, i) => [id, found[i]?.data]));
  return (clientId) => names.get(clientId) ?? clientLabel(clientId);
}

/** A client's name as text, for markup. */
export function ClientName({ id }: { id: string }) {
  return <>{useClientName(id)}</>;
}
