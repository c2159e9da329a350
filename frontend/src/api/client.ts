import createClient from 'openapi-fetch';
import { API_BASE_URL } from './publicClient';
import type { paths } from './schema';
import { endSession, getAccessToken, refreshAccessToken } from './session';

export { publicClient } from './publicClient';

function withBearer(request: Request, token: string | null): Request {
  if (!token) return request;
  const headers = new Headers(request.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return new Request(request, { headers });
}

/**
 * Sends the request with the in-memory access token. On a 401 it gets a fresh token once (shared with any
 * concurrent refresh) and retries; if that fails the session is over.
 */
async function fetchWithSession(request: Request): Promise<Response> {
  // A Request body can be read only once, so keep an unsent copy for the retry.
  const retry = request.clone();
  const sentToken = getAccessToken();
  const response = await fetch(withBearer(request, sentToken));
  if (response.status !== 401) return response;

  // Another call may already have refreshed while this one was in flight: reuse its token.
  const current = getAccessToken();
  const token = current && current !== sentToken ? current : await refreshAccessToken();
  if (!token) {
    endSession();
    return response;
  }
  return fetch(withBearer(retry, token));
}

/** Typed client for every authenticated call. */
export const api = createClient<paths>({
  baseUrl: API_BASE_URL,
  credentials: 'same-origin',
  fetch: fetchWithSession,
});
