// Set-up through the API for the messaging tests: a client books a therapist, which opens their conversation
// (with the therapist's welcome message).
import { expect, request as playwrightRequest, type APIRequestContext, type Page, type WebSocketRoute } from '@playwright/test';
import { bookableTherapist, bookFirstSlot, CLIENT_ZONE, logIn, registerViaApi, type ApiUser } from './scheduling';

export interface ConversationPair {
  therapist: ApiUser;
  client: ApiUser;
  conversationId: string;
}

export interface ApiMessage {
  seq: number;
  sender_id: string;
  client_message_id: string;
  kind: string;
  body: string;
}

const bearer = (user: ApiUser) => ({ Authorization: `Bearer ${user.token}` });

export async function bookedPair(request: APIRequestContext): Promise<ConversationPair> {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'video');
  const listed = await request.get('/api/v1/conversations', { headers: bearer(client) });
  expect(listed.status()).toBe(200);
  const { items } = (await listed.json()) as { items: { id: string; therapist_id: string }[] };
  const conversation = items.find((c) => c.therapist_id === therapist.id);
  expect(conversation, 'booking opens a conversation').toBeTruthy();
  return { therapist, client, conversationId: conversation!.id };
}

/** Every message of the conversation as the API stores it, in seq order. */
export async function storedMessages(request: APIRequestContext, user: ApiUser, conversationId: string): Promise<ApiMessage[]> {
  const response = await request.get(`/api/v1/conversations/${conversationId}/messages`, {
    headers: bearer(user),
    params: { after_seq: 0, limit: 200 },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { items: ApiMessage[] }).items;
}

/** Sends a message over REST as `user` (the way another device of theirs would). */
export async function postAs(request: APIRequestContext, user: ApiUser, conversationId: string, body: string): Promise<ApiMessage> {
  const response = await request.post(`/api/v1/conversations/${conversationId}/messages`, {
    headers: bearer(user),
    data: { client_message_id: `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`, body },
  });
  expect(response.status()).toBe(201);
  return (await response.json()) as ApiMessage;
}

/**
 * Stores `count` messages from `user` over REST, several at a time (their order among themselves is not kept).
 * Through a context of its own, without an `expect` per message: through the test's (traced) context, ten thousand
 * took minutes, the test runner's CPU growing with every call.
 */
export async function postMany(baseURL: string, user: ApiUser, conversationId: string, count: number): Promise<void> {
  const context = await playwrightRequest.newContext({ baseURL, extraHTTPHeaders: bearer(user) });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const response = await context.post(`/api/v1/conversations/${conversationId}/messages`, {
        data: { client_message_id: `e2e-bulk-${next}`, body: `Earlier note ${next}` },
      });
      if (response.status() !== 201) throw new Error(`storing message ${next}: ${response.status()}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    await context.dispose();
  }
}

/** The conversation's unread count for `user`, as the conversation list gives it. */
export async function unreadCount(request: APIRequestContext, user: ApiUser, conversationId: string): Promise<number> {
  const response = await request.get('/api/v1/conversations', { headers: bearer(user) });
  expect(response.status()).toBe(200);
  const { items } = (await response.json()) as { items: { id: string; unread_count: number }[] };
  return items.find((c) => c.id === conversationId)!.unread_count;
}

export interface ClientFrame {
  type: string;
  conversation_id?: string;
  client_message_id?: string;
  seq?: number;
  after_seq?: number;
}

export interface SocketControl {
  /** How many `rate_limited` errors the page got for its own frames. */
  readonly refusals: number;
  /** Every frame the page wrote, with when (ms since the epoch), oldest first. */
  readonly written: { frame: ClientFrame; at: number }[];
  /**
   * Frames for which this returns true are refused by the server's real rate limit: just before such a frame, the
   * user's whole frame budget is spent on the same socket (as the user's other tabs spend it; the server handles a
   * socket's frames in order), and the frame after it waits until the budget has a frame again.
   */
  refuse: (frame: ClientFrame) => boolean;
  /** Closes the page's socket as a server restart does (the page then reconnects on its own). */
  drop(): Promise<void>;
}

/** More frames than the server's burst (60): after them the user's budget is empty. */
const SPEND_BUDGET = 70;
/** The server gives a frame of budget back every 50 ms. */
const BUDGET_BACK_MS = 60;

/** Routes the page's messaging socket through the test, to the real server. Call before the page connects. */
export async function controlSocket(page: Page): Promise<SocketControl> {
  let current: { page: WebSocketRoute; server: WebSocketRoute } | null = null;
  const control = {
    refusals: 0,
    written: [] as { frame: ClientFrame; at: number }[],
    refuse: (() => false) as (frame: ClientFrame) => boolean,
    async drop() {
      const routed = current;
      current = null;
      await routed?.page.close({ code: 1012, reason: 'service restart' });
      await routed?.server.close({ code: 1012, reason: 'service restart' });
    },
  };
  await page.routeWebSocket(
    (url) => url.pathname === '/api/v1/ws',
    (ws) => {
      const server = ws.connectToServer();
      current = { page: ws, server };
      // The answers to the frames spent here are the test's, not the page's: a ping is answered by `pong`, or by
      // `rate_limited` once the budget is gone.
      let spent = 0;
      let allAnswered = () => {};
      let forwarding = Promise.resolve();
      ws.onMessage((message) => {
        const frame = JSON.parse(String(message)) as ClientFrame;
        control.written.push({ frame, at: Date.now() });
        const refused = control.refuse(frame);
        forwarding = forwarding.then(async () => {
          if (!refused) {
            server.send(message);
            return;
          }
          const answered = new Promise<void>((resolve) => (allAnswered = resolve));
          spent += SPEND_BUDGET;
          for (let i = 0; i < SPEND_BUDGET; i += 1) server.send(JSON.stringify({ type: 'ping' }));
          server.send(message);
          // The page's next frame goes once the server has a frame of budget again, so only this one is refused.
          await answered;
          await new Promise((resolve) => setTimeout(resolve, BUDGET_BACK_MS));
        });
      });
      server.onMessage((message) => {
        const frame = JSON.parse(String(message)) as { type: string; code?: string };
        const limited = frame.type === 'error' && frame.code === 'rate_limited';
        if (spent > 0 && (frame.type === 'pong' || limited)) {
          spent -= 1;
          if (spent === 0) allAnswered();
          return;
        }
        if (limited) control.refusals += 1;
        ws.send(message);
      });
    },
  );
  return control;
}

/** Marks a therapist away (or back) through the API. */
export async function setAway(request: APIRequestContext, therapist: ApiUser, away: boolean): Promise<void> {
  const response = await request.put('/api/v1/therapists/me/away', { headers: bearer(therapist), data: { away } });
  expect(response.status()).toBe(200);
}

/** Opens the conversation from the area's Messages page and waits until the socket is connected. */
export async function openConversation(page: Page, role: 'client' | 'therapist', linkName: string): Promise<void> {
  await page.getByRole('navigation', { name: role === 'client' ? 'Client area' : 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await expect(page.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
  await page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${linkName}`) }).click();
  await expect(page.getByRole('heading', { name: `Messages with ${linkName}` })).toBeVisible();
  await expect(page.getByText(/^Connected/)).toBeVisible();
}

export function messageLog(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

export async function sendMessage(page: Page, body: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(body);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** A booked pair whose client has the conversation open, its socket routed through `controlSocket`. */
export async function openWithControlledSocket(page: Page, request: APIRequestContext) {
  const pair = await bookedPair(request);
  const socket = await controlSocket(page);
  await logIn(page, pair.client);
  await openConversation(page, 'client', pair.therapist.displayName);
  return { ...pair, socket };
}

/** How many messages wait in the page's outbox (IndexedDB), every user's. */
export function outboxCount(page: Page): Promise<number> {
  return page.evaluate(async () => {
    // Opening a database that does not exist would create it without its store: look first.
    if (!(await indexedDB.databases()).some((db) => db.name === 'hearth-messaging')) return 0;
    return new Promise<number>((resolve, reject) => {
      const opened = indexedDB.open('hearth-messaging');
      opened.onerror = () => reject(opened.error);
      opened.onsuccess = () => {
        const db = opened.result;
        const counted = db.transaction('outbox').objectStore('outbox').count();
        counted.onsuccess = () => {
          db.close();
          resolve(counted.result);
        };
        counted.onerror = () => reject(counted.error);
      };
    });
  });
}
