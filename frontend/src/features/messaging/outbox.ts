import type { PendingMessage } from './types';

// Messages the user wrote that the server has not acknowledged yet, kept in IndexedDB so a reload, a crash or a
// lost connection never loses them. Only pending ones are stored; each is deleted as soon as it is acknowledged.
// If IndexedDB is unavailable (private modes of some browsers) the outbox still works, in memory for this tab.
//
// The bodies are plain text on the device, so the outbox lives no longer than the session that wrote it: signing
// out (after a warning, see SignedInAs) and losing the session (a timeout, a sign-out elsewhere) delete it. After
// that the device may be someone else's to use, a clinic's shared computer or a family laptop, and what a
// therapist or client wrote must not wait there for them; nor can it be sent, with no session to send it.

const DB_NAME = 'hearth-messaging';
const STORE = 'outbox';

let opening: Promise<IDBDatabase | null> | null = null;

function open(): Promise<IDBDatabase | null> {
  opening ??= new Promise((resolve) => {
    if (typeof indexedDB === 'undefined') {
      resolve(null);
      return;
    }
    try {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: 'client_message_id' });
        store.createIndex('user_id', 'user_id');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return opening;
}

function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> {
  return open().then(
    (db) =>
      new Promise<T | undefined>((resolve) => {
        if (!db) {
          resolve(undefined);
          return;
        }
        try {
          const request = action(db.transaction(STORE, mode).objectStore(STORE));
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve(undefined);
        } catch {
          resolve(undefined);
        }
      }),
  );
}

/** The user's pending messages, oldest first. */
export async function loadOutbox(userId: string): Promise<PendingMessage[]> {
  const items = (await run<PendingMessage[]>('readonly', (store) => store.index('user_id').getAll(userId))) ?? [];
  return items.sort((a, b) => a.created_at.localeCompare(b.created_at));
}

export async function putPending(message: PendingMessage): Promise<void> {
  await run('readwrite', (store) => store.put(message));
}

export async function deletePending(clientMessageId: string): Promise<void> {
  await run('readwrite', (store) => store.delete(clientMessageId));
}

/** How many messages wait in the outbox, every user's and every tab's. */
export async function countOutbox(): Promise<number> {
  return (await run<number>('readonly', (store) => store.count())) ?? 0;
}

/** Deletes every waiting message from the device (see the top of this file for when, and why). */
export async function clearOutbox(): Promise<void> {
  await run('readwrite', (store) => store.clear());
}
