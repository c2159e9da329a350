import { api } from '../../api/client';
import { unwrap } from '../../api/result';
import { allPages } from '../../api/pages';
import type { Conversation, Message } from './types';

/** Every conversation (the inbox sorts them by latest message itself). */
export function fetchConversations(): Promise<Conversation[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/conversations', { params: { query } })));
}

const PAGE = 200;
/** How many of a conversation's newest messages a view loads; older ones would need paging back. */
export const HISTORY_LIMIT = 10_000;

/**
 * Every message after `afterSeq` (up to `untilSeq` when given), in seq order, following the seq cursor to the
 * end: the caller picks where to start, so that nothing between there and the live end is left out.
 */
export async function fetchMessagesAfter(conversationId: string, afterSeq: number, untilSeq = Infinity): Promise<Message[]> {
  const items: Message[] = [];
  let after = afterSeq;
  while (after < untilSeq) {
    const result = await unwrap(
      api.GET('/api/v1/conversations/{conversation_id}/messages', {
        params: { path: { conversation_id: conversationId }, query: { after_seq: after, limit: PAGE } },
      }),
    );
    items.push(...result.items);
    const last = result.items.at(-1);
    if (!last || result.items.length < PAGE) break;
    after = last.seq;
  }
  return items;
}

/** The REST twin of the socket's `send`: 201 when stored, 200 with the same message for a retry. */
export function postMessage(conversationId: string, clientMessageId: string, body: string): Promise<Message> {
  return unwrap(
    api.POST('/api/v1/conversations/{conversation_id}/messages', {
      params: { path: { conversation_id: conversationId } },
      body: { client_message_id: clientMessageId, body },
    }),
  );
}

export async function markReadRest(conversationId: string, seq: number): Promise<void> {
  await unwrap(
    api.POST('/api/v1/conversations/{conversation_id}/read', {
      params: { path: { conversation_id: conversationId } },
      body: { seq },
    }),
  );
}

export async function createWsTicket(): Promise<string> {
  return (await unwrap(api.POST('/api/v1/ws-tickets'))).ticket;
}

export async function fetchWelcome(): Promise<string> {
  return (await unwrap(api.GET('/api/v1/therapists/me/welcome-message'))).template;
}

export async function saveWelcome(template: string): Promise<string> {
  return (await unwrap(api.PUT('/api/v1/therapists/me/welcome-message', { body: { template } }))).template;
}

export async function fetchAway(): Promise<boolean> {
  return (await unwrap(api.GET('/api/v1/therapists/me/away'))).away;
}

export async function saveAway(away: boolean): Promise<boolean> {
  return (await unwrap(api.PUT('/api/v1/therapists/me/away', { body: { away } }))).away;
}
