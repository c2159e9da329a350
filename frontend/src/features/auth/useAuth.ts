import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { onSessionLost } from '../../api/session';
import { fetchMe, logIn, logOut, register } from './authApi';
import type { Credentials, Me, Registration } from './types';

export const meKey = ['me'] as const;

const meQuery = { queryKey: meKey, queryFn: fetchMe, staleTime: Infinity, retry: false, refetchOnWindowFocus: false };

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

export function useLogOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logOut,
    // Drop every cached response of the previous user, then record "signed out" so nothing refetches.
    onSettled: () => {
      queryClient.clear();
      queryClient.setQueryData(meKey, null);
    },
  });
}

/** When a refresh fails mid-session, mark the user signed out so protected routes send them to /login. */
export function clearUserOnSessionLoss(queryClient: QueryClient): () => void {
  return onSessionLost(() => queryClient.setQueryData(meKey, null));
}
