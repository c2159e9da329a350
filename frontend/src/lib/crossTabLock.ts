import { randomUuid } from './uuid';

/**
 * Runs `task` while no other tab of this origin runs a task under the same name. The Web Locks API does this
 * exactly, but only in secure contexts; a self-hosted Hearth opened over plain http on a LAN falls back to a lease
 * in localStorage, which is best effort: two tabs writing it within the same few milliseconds could both proceed.
 */
export function withCrossTabLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  // Typed as always present, but undefined outside secure contexts.
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks) return locks.request(name, task) as Promise<T>; // resolves with what the task resolves with
  return withStorageLease(name, task);
}

interface Lease {
  owner: string;
  until: number;
}

/** A lease outlives its owner's tab by this long at most (a tab closed mid-task never releases it). */
const LEASE_MS = 10_000;
const RENEW_MS = 3_000;
/** Long enough for another tab's write made at the same moment to show here: then the later writer keeps it. */
const SETTLE_MS = 30;
const POLL_MS = 60;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withStorageLease<T>(name: string, task: () => Promise<T>): Promise<T> {
  let storage: Storage;
  try {
    storage = window.localStorage;
  } catch {
    return task(); // storage disabled: nothing to coordinate through
  }
  const key = `hearth-lock:${name}`;
  const owner = randomUuid();
  const read = (): Lease | null => {
    try {
      return JSON.parse(storage.getItem(key) ?? 'null') as Lease | null;
    } catch {
      return null;
    }
  };
  const take = () => storage.setItem(key, JSON.stringify({ owner, until: Date.now() + LEASE_MS }));
  for (;;) {
    const held = read();
    if (!held || held.until <= Date.now()) {
      take();
      await sleep(SETTLE_MS);
      if (read()?.owner === owner) break;
    }
    await sleep(POLL_MS * (0.5 + Math.random()));
  }
  const renewal = setInterval(() => {
    if (read()?.owner === owner) take();
  }, RENEW_MS);
  try {
    return await task();
  } finally {
    clearInterval(renewal);
    if (read()?.owner === owner) storage.removeItem(key);
  }
}
