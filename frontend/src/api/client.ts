import createClient from 'openapi-fetch';
import { API_BASE_URL } from './publicClient';
import type { paths } from './schema';
import { ConnectionProblem, getAccessToken, refreshAccessToken } from './session';

export { publicClient } from './publicClient';

function withBearer(request: Request, token: string | null): Request {
  if (!token) return request;
  const headers = new Headers(request.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return new Request(request, { headers });
}

/** What an API call answers when the sign-in could not be renewed for now: a problem the UI shows as it is. */
function connectionProblem(problem: ConnectionProblem): Response {
  const body = { type: 'about:blank', title: 'Connection problem', status: 503, detail: problem.message, code: 'connection_problem' };
  return new Response(JSON.stringify(body), { status: 503, headers: { 'Content-Type': 'application/problem+json' } });
}

/**
 * Sends the request with the in-memory access token. On a 401 it gets a fresh token once (shared with any
 * concurrent refresh) and retries. If the session is over, the 401 stands (the session module has signed the user
 * out); if the sign-in could not be renewed for now, the call answers 503 `connection_problem`.
 */
async function fetchWithSession(request: Request): Promise<Response> {
  // A Request body can be read only once, so keep an unsent copy for the retry.
  const retry = request.clone();
  const sentToken = getAccessToken();
  const response = await fetch(withBearer(request, sentToken));
  if (response.status !== 401) return response;

  // Another call may already have refreshed while this one was in flight: reuse its token.
  const current = getAccessToken();
  let token: string | null;
  try {
    token = current && current !== sentToken ? current : await refreshAccessToken();
  } catch (error) {
    if (error instanceof ConnectionProblem) return connectionProblem(error);
    throw error;
  }
  if (!token) return response;
  return fetch(withBearer(retry, token));
}

/** Typed client for every authenticated call. */
export const api = createClient<paths>({
  baseUrl: API_BASE_URL,
  credentials: 'same-origin',
  fetch: fetchWithSession,
});
