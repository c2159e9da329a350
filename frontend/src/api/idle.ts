// The idle limit (docs/adr/0003): a session ends after a while without the user at the device. What counts is
// the user's own activity (input, bringing the page to the foreground), never what the app does on its own (polls,
// the messaging socket, token refreshes), or a tab left open would keep its session forever. This module tracks
// that activity, shares it between tabs, reports it on every refresh (`idle_seconds`), declares it before the
// server's deadline passes, and ends the session when the limit is reached.

// Scrolling is left out: the app scrolls by itself (new messages). A user's scrolling comes with wheel, touch or keys.
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;
/** Input closer together than this is one activity (pointermove fires at every pixel). */
const NOTE_EVERY_MS = 1_000;
/** Tabs tell each other of activity at most this often, with its latest time. */
const SHARE_EVERY_MS = 5_000;
/** Declare activity this long before the server's deadline (at most a quarter of the limit). */
const DECLARE_AHEAD_MS = 120_000;

interface Limit {
  timeoutMs: number;
  /** When the server ends the session unless a refresh declares activity first (this tab's clock). */
  serverDeadline: number;
  /** The latest activity the server has been told of by this tab. */
  declared: number;
}

interface Handlers {
  /** The limit was reached: end the session. */
  expire: () => void;
  /** There is activity the server has not heard of and its deadline is near: refresh to declare it. */
  declare: () => void;
}

// Opening or reloading the page is the user's doing.
let lastActivity = Date.now();
let limit: Limit | null = null;
let handlers: Handlers | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;

const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('hearth-activity') : null;
let sharedAt = 0;
let shareTimer: ReturnType<typeof setTimeout> | null = null;

export function configureIdle(next: Handlers): void {
  handlers = next;
}

/**
 * What a refresh about to be sent declares: the seconds since the user was last active in any tab (rounded up: a
 * refresh never claims more activity than there was), and the activity that stands for.
 */
export function activityToDeclare(): { idleSeconds: number; activeAt: number } {
  return { idleSeconds: Math.max(0, Math.ceil((Date.now() - lastActivity) / 1000)), activeAt: lastActivity };
}

/** Whether the idle limit has passed (so a session the server ended was ended for inactivity). */
export function idleLimitPassed(): boolean {
  return limit !== null && Date.now() >= lastActivity + limit.timeoutMs;
}

/** A sign-in: the user is here, and a new session starts with its own limit. */
export function startIdleWatch(timeoutSeconds: number): void {
  lastActivity = Math.max(lastActivity, Date.now());
  share();
  followIdleLimit(timeoutSeconds, timeoutSeconds, lastActivity);
}

/** A refresh answered: follow the limit it gives. `declared`: the activity the refresh declared (activityToDeclare). */
export function followIdleLimit(timeoutSeconds: number, expiresInSeconds: number, declared: number): void {
  limit = {
    timeoutMs: timeoutSeconds * 1000,
    serverDeadline: Date.now() + expiresInSeconds * 1000,
    declared: Math.max(declared, limit?.declared ?? 0),
  };
  check();
}

export function stopIdleWatch(): void {
  limit = null;
  if (timer) clearTimeout(timer);
  timer = null;
}

function check(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (!limit || !handlers) return;
  const now = Date.now();
  const deadline = lastActivity + limit.timeoutMs;
  if (now >= deadline) {
    stopIdleWatch();
    handlers.expire();
    return;
  }
  const declareAt = limit.serverDeadline - Math.min(DECLARE_AHEAD_MS, limit.timeoutMs / 4);
  const undeclared = lastActivity > limit.declared;
  if (undeclared && now >= declareAt) handlers.declare(); // the refresh's answer moves serverDeadline
  const next = undeclared && declareAt > now ? Math.min(deadline, declareAt) : deadline;
  // Never spin: a declaration under way (or failing) is looked at again a second later at the soonest.
  timer = setTimeout(check, Math.max(1_000, next - now));
}

function note(at: number): void {
  // A tab whose timer was held back (hidden tabs get few) may find the limit passed only now: activity arriving
  // after it must not revive the session.
  if (idleLimitPassed()) {
    check();
    return;
  }
  if (at <= lastActivity) return;
  lastActivity = at;
}

function share(): void {
  if (!tabs || shareTimer) return;
  const wait = sharedAt + SHARE_EVERY_MS - Date.now();
  shareTimer = setTimeout(
    () => {
      shareTimer = null;
      sharedAt = Date.now();
      tabs.postMessage({ activeAt: lastActivity });
    },
    Math.max(0, wait),
  );
}

function onInput(): void {
  const now = Date.now();
  if (now - lastActivity < NOTE_EVERY_MS) return;
  note(now);
  share();
}

if (typeof window !== 'undefined') {
  for (const type of INPUT_EVENTS) window.addEventListener(type, onInput, { capture: true, passive: true });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') onInput();
  });
  tabs?.addEventListener('message', (event: MessageEvent<{ activeAt?: number }>) => {
    const at = event.data.activeAt;
    if (typeof at === 'number' && at <= Date.now()) note(at);
  });
  share(); // this page was just opened
}
