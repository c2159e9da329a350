import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/problem';
import { ConnectionProblem, onSessionLost } from '../../api/session';
import { clearOutbox } from '../messaging/outbox';
import { fetchMe, logIn, logOut, register } from './authApi';
import type { Credentials, Me, Registration } from './types';

export const meKey = ['me'] as const;

const meQuery = {
  queryKey: meKey,
  queryFn: fetchMe,
  staleTime: Infinity,
  // The server could not tell whether there is a session: ask again (with React Query's backoff) rather than show
  // the visitor as signed out. The page says there is a connection problem meanwhile.
  retry: (_failures: number, error: unknown) => isConnectionProblem(error),
  refetchOnWindowFocus: false,
};

/**
 * The signed-in user (null when signed out). Fetched once per page load, which is when the refresh cookie is tried;
 * afterwards sign-in, sign-out, a lost session and whatever changes the user's care (a booking, a claimed offer, a
 * match: they invalidate `meKey`) change it.
 */
export function useMe() {
  return useQuery<Me | null>(meQuery);
}

/**
 * `useMe`, fetched again whenever the page mounts: for a page whose actions depend on what the server holds now
 * (whether a client is in care decides whether matching ends that care), which another tab may have changed.
 */
export function useCurrentMe() {
  return useQuery<Me | null>({ ...meQuery, refetchOnMount: 'always' });
}

function isConnectionProblem(error: unknown): boolean {
  return error instanceof ConnectionProblem || (error instanceof ApiError && error.code === 'connection_problem');
}

/** Logs in and records the user, as after any way of getting an account (registering, joining a practice). */
export async function signIn(queryClient: QueryClient, credentials: Credentials): Promise<Me> {
  await logIn(credentials);
  const me = await fetchMe();
  if (!me) throw new Error('Signed in, but the session could not be loaded. Please try again.');
  queryClient.setQueryData(meKey, me);
  return me;
}

export function useLogIn() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: (credentials: Credentials) => signIn(queryClient, credentials) });
}

/** Registers, then signs in with the same credentials so the new user lands in their area. */
export function useRegister() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (registration: Registration) => {
      await register(registration);
      return signIn(queryClient, { username: registration.email, password: registration.password });
    },
  });
}

/**
 * Forgets everything the signed-in user saw. "Signed out" is recorded first, so the guarded pages unmount before
 * the data they show goes; then every cached response and mutation result goes, so the next person to sign in at
 * this device never sees the previous user's data while their own loads; and the messaging outbox goes too (see
 * outbox.ts for why unsent messages are not kept).
 */
function forgetUser(queryClient: QueryClient): void {
  queryClient.setQueryData(meKey, null);
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== meKey[0] });
  queryClient.getMutationCache().clear();
  void clearOutbox();
}

export function useLogOut() {
  return useMutation({
    mutationFn: logOut, // ends the session, which forgets the user (see forgetUserOnSessionEnd)
    // Offline, React Query would hold the mutation until the network returns, leaving the user signed in at a
    // device they meant to leave. Signing out here must not wait for the server.
    networkMode: 'always',
  });
}

/** Whenever the session ends (sign-out, timeout, revoked, ended in another tab), forget the user. */
export function forgetUserOnSessionEnd(queryClient: QueryClient): () => void {
  return onSessionLost(() => forgetUser(queryClient));
}
