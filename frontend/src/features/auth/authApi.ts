import { api, publicClient } from '../../api/client';
import { toApiError } from '../../api/problem';
import { endSession, getAccessToken, refreshAccessToken, startSession } from '../../api/session';
import type { Credentials, Me, Registration } from './types';

export async function register(registration: Registration): Promise<void> {
  const { error, response } = await publicClient.POST('/api/v1/auth/register', { body: registration });
  if (!response.ok) throw toApiError(error, response);
}

/** OAuth2 password form; the server also sets the httpOnly refresh cookie used to restore the session. */
export async function logIn(credentials: Credentials): Promise<void> {
  const { data, error, response } = await publicClient.POST('/api/v1/auth/token', {
    body: credentials,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  if (!data) throw toApiError(error, response);
  startSession(data.access_token, data.idle_timeout);
}

/** Revokes the refresh token family server-side; the local session ends even if the server cannot be reached. */
export async function logOut(): Promise<void> {
  try {
    await api.POST('/api/v1/auth/logout');
  } finally {
    endSession('signed_out');
  }
}

/**
 * The signed-in user, or null when there is no session (after trying the refresh cookie once). Rejects with
 * ConnectionProblem while the server cannot tell.
 */
export async function fetchMe(): Promise<Me | null> {
  if (!getAccessToken() && !(await refreshAccessToken())) return null;
  const { data, error, response } = await api.GET('/api/v1/me');
  if (response.status === 401) return null;
  if (!data) throw toApiError(error, response);
  return data;
}

