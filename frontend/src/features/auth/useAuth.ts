import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/problem';
import { ConnectionProblem, onSessionLost } from '../../api/session';
import { fetchMe, logIn, logOut, register } from './authApi';
import type { Credentials, Me, Registration } from './types';

const meKey = ['me'] as const;

/**
 * The signed-in user (null when signed out). Fetched once per page load, which is when the refresh cookie is tried;
 * afterwards only sign-in, sign-out and a lost session change it.
 */
export function useMe() {
  return useQuery<Me | null>({
    queryKey: meKey,
    queryFn: fetchMe,
    staleTime: Infinity,
    // The server could not tell whether there is a session: ask again (with React Query's backoff) rather than
    // show the visitor as signed out. The page says there is a connection problem meanwhile.
    retry: (_failures, error) => isConnectionProblem(error),
    refetchOnWindowFocus: false,
  });
}

function isConnectionProblem(error: unknown): boolean {
  return error instanceof ConnectionProblem || (error instanceof ApiError && error.code === 'connection_problem');
}

async function signIn(queryClient: QueryClient, credentials: Credentials): Promise<Me> {
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
