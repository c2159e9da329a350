// Set-up through the API for the messaging tests: a client books a therapist, which opens their conversation
// (with the therapist's welcome message).
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { bookableTherapist, bookFirstSlot, CLIENT_ZONE, registerViaApi, type ApiUser } from './scheduling';

export interface ConversationPair {
  therapist: ApiUser;
  client: ApiUser;
  conversationId: string;
}

interface ApiMessage {
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

/** The label a therapist sees for a client (the API gives therapists no client names yet). */
export function clientLabelOf(client: ApiUser): string {
  return `Client ${client.id.slice(0, 6)}`;
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
