import { withCrossTabLock } from '../lib/crossTabLock';
import { activityToDeclare, configureIdle, followIdleLimit, idleLimitPassed, startIdleWatch, stopIdleWatch } from './idle';
import { publicClient } from './publicClient';

// The access token lives in this module's memory only, never in localStorage or sessionStorage where any
// injected script could read it. A page reload loses it; the httpOnly refresh cookie brings it back.
let accessToken: string | null = null;
/** This tab holds a session: losing it then means the user was signed out (not merely that nobody signed in). */
let signedIn = false;
let refreshing: Promise<string | null> | null = null;
/** Moves on every sign-in and sign-out: a refresh begun before then must not bring back the session it belonged to. */
let epoch = 0;
const lossListeners = new Set<() => void>();

const REFRESH_LOCK = 'hearth-refresh';
/** The first retry of a failed refresh waits this long, each next one twice as long, up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** A caller waits this long for a refresh that keeps failing, then gets a ConnectionProblem; retries go on. */
const CALLER_WAITS_MS = 10_000;

/**
 * The sign-in could not be renewed because the server could not be reached or did not answer (5xx, 429): the
 * session may well be fine. Refreshing goes on in the background; the caller should report a connection problem.
 */
export class ConnectionProblem extends Error {
  constructor() {
    super('Hearth cannot be reached right now, so your sign-in could not be renewed. Trying again…');
    this.name = 'ConnectionProblem';
  }
}

export function getAccessToken(): string | null {
  return accessToken;
}

/**
 * A new session (sign-in): whatever a refresh still under way brings back belongs to the one before. `idleTimeout`:
 * seconds without activity after which the server ends it.
 */
export function startSession(token: string, idleTimeout: number): void {
  epoch += 1;
  refreshing = null;
  accessToken = token;
  signedIn = true;
  lastEnd = null;
  endListeners.forEach((listener) => listener());
  startIdleWatch(idleTimeout);
}

type Outcome = { kind: 'renewed'; token: string } | { kind: 'ended' } | { kind: 'failed'; retryAfterMs: number };

/** Milliseconds a 429/503 asks to wait (seconds or an HTTP date), or 0. */
function retryAfterMs(response: Response): number {
  const value = response.headers.get('Retry-After');
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

async function attemptRefresh(): Promise<Outcome> {
  try {
    // An empty body makes the server read the refresh token from the cookie (mobile clients send it in the body).
    // One tab at a time: the tabs share the cookie, and two of them presenting it at once would look like a replay
    // of a spent token, which revokes the session. A tab that gets the lock after another refreshed sends the
    // cookie that refresh set, so serialising is all it takes.
    // It says how long the user has been away, so a refresh made for a background poll does not count as activity.
    const { data, response, activeAt } = await withCrossTabLock(REFRESH_LOCK, async () => {
      const activity = activityToDeclare();
      const answer = await publicClient.POST('/api/v1/auth/refresh', { body: { idle_seconds: activity.idleSeconds } });
      return { ...answer, activeAt: activity.activeAt };
    });
    // Only the server's verdict on the token ends the session. A 503 from a restarting server, a 429, a proxy's
    // 502 say nothing about it: signing the user out for them would lose their work for a blip.
    if (response.status === 401) return { kind: 'ended' };
    if (data) {
      followIdleLimit(data.idle_timeout, data.idle_expires_in, activeAt);
      return { kind: 'renewed', token: data.access_token };
    }
    return { kind: 'failed', retryAfterMs: retryAfterMs(response) };
  } catch {
    return { kind: 'failed', retryAfterMs: 0 }; // the network, or the server unreachable
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Refreshes until the server says yes or no, backing off (as long as it asks, at least) while it cannot say. */
async function refreshUntilAnswered(): Promise<string | null> {
  const started = epoch;
  for (let failures = 0; ; failures += 1) {
    const outcome = await attemptRefresh();
    if (epoch !== started) return null;
    if (outcome.kind === 'renewed') {
      setTrouble(false);
      accessToken = outcome.token;
      signedIn = true;
      return outcome.token;
    }
    if (outcome.kind === 'ended') {
      setTrouble(false);
      // The server says "expired" for either limit; the idle one is the likelier, and the user should know.
      if (signedIn) endSession(idleLimitPassed() ? 'idle' : 'expired');
      else accessToken = null;
      return null;
    }
    setTrouble(true);
    const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures) * (0.75 + Math.random() * 0.5);
    await sleep(Math.max(backoff, outcome.retryAfterMs));
    if (epoch !== started) return null;
  }
}

/**
 * Trades the refresh cookie for a new access token; resolves null when there is no valid session (and, if this tab
 * had one, tells the session-loss listeners). Rejects with ConnectionProblem when no answer came in time; the
 * refresh is retried meanwhile, and later callers share it.
 * Concurrent callers share one request, and tabs take turns (see attemptRefresh): the server rotates the refresh
 * token on every use and revokes the whole family when a spent one is replayed, so two parallel refreshes would sign
 * the user out.
 */
export function refreshAccessToken(): Promise<string | null> {
  if (!refreshing) {
    const run: Promise<string | null> = refreshUntilAnswered().finally(() => {
      if (refreshing === run) refreshing = null;
    });
    refreshing = run;
  }
  const shared = refreshing;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ConnectionProblem()), CALLER_WAITS_MS);
    shared.then(
      (token) => {
        clearTimeout(timer);
        resolve(token);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Why a session ended: the user signed out, the server ended it (expiry, revocation), or the user was away. */
export type SessionEnd = 'signed_out' | 'expired' | 'idle';

let lastEnd: SessionEnd | null = null;
const endListeners = new Set<() => void>();

// Every tab of the origin shares the refresh cookie, so a session that ends in one has ended in all: each tab is
// told at once, rather than at its next refresh, so none keeps showing the previous user's pages meanwhile.
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hearth-session') : null;
tabs?.addEventListener('message', (event: MessageEvent<{ ended?: SessionEnd }>) => {
  const reason = event.data.ended;
  if (signedIn && (reason === 'signed_out' || reason === 'expired' || reason === 'idle')) end(reason);
});

/** Forgets the token and tells listeners (the session cache) and the other tabs that the user is no longer signed in. */
export function endSession(reason: SessionEnd): void {
  end(reason);
  tabs?.postMessage({ ended: reason });
}

function end(reason: SessionEnd): void {
  stopIdleWatch();
  epoch += 1;
  refreshing = null;
  setTrouble(false);
  accessToken = null;
  signedIn = false;
  lastEnd = reason;
  lossListeners.forEach((listener) => listener());
  endListeners.forEach((listener) => listener());
}

export function onSessionLost(listener: () => void): () => void {
  lossListeners.add(listener);
  return () => lossListeners.delete(listener);
}

/** Why the last session of this tab ended (null before any ended, and again after a sign-in). */
export function sessionEndReason(): SessionEnd | null {
  return lastEnd;
}

export function onSessionEndReason(listener: () => void): () => void {
  endListeners.add(listener);
  return () => endListeners.delete(listener);
}

configureIdle({
  // The server would refuse the next refresh anyway; logging out also revokes the session at once and deletes the
  // cookie, so a reload by the next person at the device cannot bring it back. Offline, the server's own idle
  // limit ends it.
  expire: () => {
    endSession('idle');
    void publicClient.POST('/api/v1/auth/logout', { body: {} }).catch(() => undefined);
  },
  declare: () => void refreshAccessToken().catch(() => undefined),
});

// --- connection trouble: a refresh is failing for reasons other than the session ----------------------------

let trouble = false;
const troubleListeners = new Set<() => void>();

function setTrouble(next: boolean): void {
  if (trouble === next) return;
  trouble = next;
  troubleListeners.forEach((listener) => listener());
}

/** Whether renewing the sign-in is failing right now (for useSyncExternalStore). */
export function hasConnectionTrouble(): boolean {
  return trouble;
}

export function onConnectionTrouble(listener: () => void): () => void {
  troubleListeners.add(listener);
  return () => troubleListeners.delete(listener);
}
