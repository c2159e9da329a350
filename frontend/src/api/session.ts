import { publicClient } from './publicClient';

// The access token lives in this module's memory only, never in localStorage or sessionStorage where any
// injected script could read it. A page reload loses it; the httpOnly refresh cookie brings it back.
let accessToken: string | null = null;
let refreshing: Promise<string | null> | null = null;
const lossListeners = new Set<() => void>();

export function getAccessToken(): string | null {
  return accessToken;
}

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

/**
 * Trades the refresh cookie for a new access token; resolves null when there is no valid session.
 * Concurrent callers share one request: the server rotates the refresh token on every use and revokes the whole
 * family when a spent one is replayed, so two parallel refreshes would sign the user out.
 */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= requestRefresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function requestRefresh(): Promise<string | null> {
  // An empty body makes the server read the refresh token from the cookie (mobile clients send it in the body).
  const { data } = await publicClient.POST('/api/v1/auth/refresh', { body: {} });
  accessToken = data?.access_token ?? null;
  return accessToken;
}

/** Forgets the token and tells listeners (the session cache) that the user is no longer signed in. */
export function endSession(): void {
  accessToken = null;
  lossListeners.forEach((listener) => listener());
}

export function onSessionLost(listener: () => void): () => void {
  lossListeners.add(listener);
  return () => lossListeners.delete(listener);
}
