import { expect, test, type Page } from '@playwright/test';
import { cspViolations, expectInlineScriptsRefused } from './csp';
import {
  bookedPair,
  controlSocket,
  messageLog,
  openConversation,
  openWithControlledSocket,
  outboxCount,
  postAs,
  postMany,
  sendMessage,
  setAway,
  storedMessages,
  unreadCount,
} from './messaging';
import { bookableTherapist, bookFirstSlot, CLIENT_ZONE, logIn, registerViaApi } from './scheduling';
import { logInThroughForm } from './users';

// Two users registered and signed in, in two browser contexts: more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 60_000 });

test('client and therapist exchange messages live, with typing and read receipts', async ({ page, browser, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const therapistContext = await browser.newContext();
  const therapistPage = await therapistContext.newPage();
  // Both run under the SPA's Content-Security-Policy (live socket included) without breaking it.
  const clientViolations = await cspViolations(page);
  const therapistViolations = await cspViolations(therapistPage);
  try {
    await logIn(page, client);
    await openConversation(page, 'client', therapist.displayName);
    // The booking opened the conversation with the therapist's welcome message.
    await expect(messageLog(page).getByText(`Welcome message from ${therapist.displayName}`)).toBeVisible();

    await logIn(therapistPage, therapist);
    await openConversation(therapistPage, 'therapist', client.displayName);

    const question = `Is Thursday still good? ${Date.now()}`;
    await sendMessage(page, question);
    // The therapist sees it without a reload; the client sees it stored, then read.
    await expect(messageLog(therapistPage).getByText(question)).toBeVisible();
    const mine = messageLog(page).getByRole('listitem').filter({ hasText: question });
    await expect(mine).not.toContainText('Sending');
    await expect(mine).toContainText('Seen');

    // Typing shows on the other side, then the answer arrives live.
    await therapistPage.getByLabel('Message', { exact: true }).fill('Yes');
    await expect(page.getByText(`${therapist.displayName} is typing…`)).toBeVisible();
    const answer = `Yes, Thursday at 10 works. ${Date.now()}`;
    await sendMessage(therapistPage, answer);
    await expect(messageLog(page).getByText(answer)).toBeVisible();
    await expect(messageLog(therapistPage).getByRole('listitem').filter({ hasText: answer })).toContainText('Seen');

    const stored = await storedMessages(request, therapist, conversationId);
    expect(stored.filter((m) => m.body === question)).toHaveLength(1);
    expect(stored.filter((m) => m.body === answer)).toHaveLength(1);
    expect(therapistViolations).toEqual([]);
    await expectInlineScriptsRefused(page, clientViolations);
  } finally {
    await therapistContext.close();
  }
});

test('a therapist sees the welcome message and the automatic reply as their own, not as the client\'s', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const away = await request.put('/api/v1/therapists/me/away', {
    headers: { Authorization: `Bearer ${therapist.token}` },
    data: { away: true },
  });
  expect(away.status()).toBe(200);
  await postAs(request, client, conversationId, `Are you there? ${Date.now()}`);
  await expect.poll(async () => (await storedMessages(request, client, conversationId)).map((m) => m.kind)).toContain('auto_reply');

  await logIn(page, therapist);
  await openConversation(page, 'therapist', client.displayName);
  const log = messageLog(page);
  await expect(log.getByRole('listitem').filter({ hasText: 'Your welcome message' })).toHaveClass(/\bmine\b/);
  await expect(log.getByRole('listitem').filter({ hasText: 'Your automatic reply' })).toHaveClass(/\bmine\b/);
  // Both were sent in the therapist's name: never attributed to the client they went to.
  await expect(log).not.toContainText(`from ${client.displayName}`);
});

test('a receipt given before the page opened shows as "Seen" there too', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const question = `Did you get my form? ${Date.now()}`;
  const later = `And one more thing. ${Date.now()}`;
  const sent = await postAs(request, client, conversationId, question);
  await postAs(request, client, conversationId, later);
  // The therapist read the first one (on another device, say) while the client was away.
  const read = await request.post(`/api/v1/conversations/${conversationId}/read`, {
    headers: { Authorization: `Bearer ${therapist.token}` },
    data: { seq: sent.seq },
  });
  expect(read.status()).toBe(200);

  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  await expect(messageLog(page).getByRole('listitem').filter({ hasText: question })).toContainText('Seen');
  await expect(messageLog(page).getByRole('listitem').filter({ hasText: later })).not.toContainText('Seen');
});

test('the typing indicator goes away as soon as the connection does', async ({ page, context, browser, request }) => {
  const { therapist, client } = await bookedPair(request);
  const therapistContext = await browser.newContext();
  const therapistPage = await therapistContext.newPage();
  try {
    await logIn(page, client);
    await openConversation(page, 'client', therapist.displayName);
    await logIn(therapistPage, therapist);
    await openConversation(therapistPage, 'therapist', client.displayName);
    await therapistPage.getByLabel('Message', { exact: true }).fill('Let me check my calendar');
    const indicator = page.getByText(`${therapist.displayName} is typing…`);
    await expect(indicator).toBeVisible();

    await context.setOffline(true);
    await expect(page.getByText(/^You are offline/)).toBeVisible();
    // At once, not when the last signal's 6 s run out: offline, no signal could say they still type.
    await expect(indicator).toHaveCount(0, { timeout: 1_000 });
  } finally {
    await therapistContext.close();
  }
});

test('messages written offline wait in the outbox and arrive once, in order, when back online', async ({
  page,
  context,
  browser,
  request,
}) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const therapistContext = await browser.newContext();
  const therapistPage = await therapistContext.newPage();
  try {
    await logIn(page, client);
    await openConversation(page, 'client', therapist.displayName);
    await logIn(therapistPage, therapist);
    await openConversation(therapistPage, 'therapist', client.displayName);

    await context.setOffline(true);
    await expect(page.getByText(/^You are offline/)).toBeVisible();
    const first = `First, written offline ${Date.now()}`;
    const second = `Second, written offline ${Date.now()}`;
    await sendMessage(page, first);
    await sendMessage(page, second);
    for (const body of [first, second]) {
      await expect(messageLog(page).getByRole('listitem').filter({ hasText: body })).toContainText('Waiting to send');
    }
    // Nothing reached the server while offline.
    const before = await storedMessages(request, therapist, conversationId);
    expect(before.some((m) => m.body === first || m.body === second)).toBe(false);

    await context.setOffline(false);
    await expect(page.getByText(/^Connected/)).toBeVisible();
    const therapistLog = messageLog(therapistPage);
    await expect(therapistLog.getByText(first)).toHaveCount(1);
    await expect(therapistLog.getByText(second)).toHaveCount(1);
    const bodies = await therapistLog.locator('.message-body').allTextContents();
    expect(bodies.indexOf(first)).toBeLessThan(bodies.indexOf(second));
    await expect(messageLog(page).locator('[data-pending]')).toHaveCount(0);

    // Stored exactly once each, in the order written.
    const stored = (await storedMessages(request, therapist, conversationId)).filter(
      (m) => m.body === first || m.body === second,
    );
    expect(stored.map((m) => m.body)).toEqual([first, second]);
    expect(stored[1]!.seq).toBeGreaterThan(stored[0]!.seq);
  } finally {
    await therapistContext.close();
  }
});

test('a message sent over REST while the socket is down never makes the tab skip or mark read what came before it', async ({
  page,
  request,
}) => {
  const { therapist, client, conversationId, socket } = await openWithControlledSocket(page, request);
  // The server restarts: the socket drops and stays down for a while (tickets are refused), and for now the page
  // cannot read messages over REST either.
  const unavailable = { status: 503, contentType: 'application/problem+json', body: '{"title":"Restarting","status":503}' };
  await page.route('**/api/v1/ws-tickets', (route) => route.fulfill(unavailable));
  const messagesUrl = `**/api/v1/conversations/${conversationId}/messages**`;
  await page.route(messagesUrl, (route) => (route.request().method() === 'GET' ? route.abort() : route.fallback()));
  await socket.drop();
  await expect(page.getByText(/^Reconnecting/)).toBeVisible();

  // The therapist writes meanwhile; the tab never gets it. The client answers, which goes over REST after a while.
  const missed = await postAs(request, therapist, conversationId, `Can we move Thursday? ${Date.now()}`);
  const answer = `Answering while the connection is down ${Date.now()}`;
  await sendMessage(page, answer);
  const log = messageLog(page);
  await expect(log.locator('li[data-seq]').filter({ hasText: answer })).toBeVisible({ timeout: 20_000 });
  const stored = await storedMessages(request, client, conversationId);
  expect(stored.find((m) => m.body === answer)!.seq).toBe(missed.seq + 1);

  // The answer is shown, but the therapist's message before it was never seen: it stays unread (a receipt for
  // the answer would go over REST at once).
  await page.waitForTimeout(1_500);
  expect(await unreadCount(request, client, conversationId)).toBe(1);
  await expect(log.getByText(missed.body)).toHaveCount(0);

  // The server is back: the missing message shows, before the answer, and is then read.
  await page.unroute(messagesUrl);
  await page.unroute('**/api/v1/ws-tickets');
  await expect(log.getByText(missed.body)).toBeVisible({ timeout: 30_000 });
  const bodies = await log.locator('.message-body').allTextContents();
  expect(bodies.indexOf(missed.body)).toBeLessThan(bodies.indexOf(answer));
  await expect.poll(() => unreadCount(request, client, conversationId)).toBe(0);
});

test('frames refused by the rate limit are sent again: the missed messages, the outbox in order, receipts', async ({
  page,
  context,
  request,
}) => {
  const { therapist, client, conversationId, socket } = await openWithControlledSocket(page, request);

  // The connection drops; the therapist writes meanwhile, and the client writes two messages.
  await context.setOffline(true);
  await expect(page.getByText(/^You are offline/)).toBeVisible();
  const missed = await postAs(request, therapist, conversationId, `Sent while you were offline ${Date.now()}`);
  const first = `First, written offline ${Date.now()}`;
  const second = `Second, written offline ${Date.now()}`;
  await sendMessage(page, first);
  await sendMessage(page, second);

  // Back online, the user's other tabs have spent the frame budget: the server refuses this conversation's resume
  // and the first message sent (a frame right after them gets through).
  const toRefuse = new Set(['resume', 'send']);
  socket.refuse = (frame) => toRefuse.delete(frame.type); // true the first time only
  await context.setOffline(false);

  const log = messageLog(page);
  await expect(log.getByText(missed.body)).toBeVisible({ timeout: 20_000 });
  await expect(log.locator('[data-pending]')).toHaveCount(0, { timeout: 20_000 });
  const stored = await storedMessages(request, client, conversationId);
  expect(stored.filter((m) => m.body === first || m.body === second).map((m) => m.body)).toEqual([first, second]);
  await expect.poll(() => unreadCount(request, client, conversationId)).toBe(0);
  expect(toRefuse.size, 'both were refused').toBe(0);

  // A receipt refused as well goes again: the therapist's next message ends up read.
  const newest = stored.at(-1)!.seq;
  let receiptRefused = false;
  socket.refuse = (frame) => {
    if (receiptRefused || frame.type !== 'read' || frame.seq! <= newest) return false;
    receiptRefused = true;
    return true;
  };
  const later = await postAs(request, therapist, conversationId, `One more thing ${Date.now()}`);
  await expect(log.getByText(later.body)).toBeVisible();
  await expect.poll(() => unreadCount(request, client, conversationId), { timeout: 20_000 }).toBe(0);
  expect(receiptRefused).toBe(true);
  // The server's budget comes back a frame every 50 ms, so on a busy machine one of the three frames aimed at may
  // land just after a frame of budget returned and go through: at least one real refusal must have been retried.
  expect(socket.refusals, 'the server refused frames of the page').toBeGreaterThanOrEqual(1);
});

test('a therapist with more conversations than the frame burst resumes them all, paced under the rate limit', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  // The tab's own budget (connection.ts): 20 frames at once, then 10 a second.
  const burst = 20;
  const perSecond = 10;
  const therapist = await bookableTherapist(request);
  const clients = await Promise.all(Array.from({ length: burst + 4 }, () => registerViaApi(request, 'client', CLIENT_ZONE)));
  for (const client of clients) await bookFirstSlot(request, client, therapist, 20, 'video');

  const socket = await controlSocket(page);
  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await expect(page.getByRole('list', { name: 'Conversations' }).getByRole('listitem')).toHaveCount(clients.length);

  const resumed = () => socket.written.filter((w) => w.frame.type === 'resume').map((w) => w.frame.conversation_id!);
  await expect.poll(() => new Set(resumed()).size, { timeout: 20_000 }).toBe(clients.length);
  // Frame k (from 0) cannot leave before (k - 19) / 10 s after the first; 150 ms of slack for the test's own relay.
  const first = socket.written[0]!.at;
  socket.written.forEach(({ at }, k) => {
    if (k >= burst) expect(at - first, `frame ${k}`).toBeGreaterThanOrEqual(((k - burst + 1) * 1000) / perSecond - 150);
  });
  expect(socket.refusals).toBe(0);

  // The conversation resumed last is live: a message to it shows as unread in the list.
  const lastId = resumed().at(-1)!;
  const listed = await request.get('/api/v1/conversations', { headers: { Authorization: `Bearer ${therapist.token}` } });
  const { items } = (await listed.json()) as { items: { id: string; client_id: string }[] };
  const client = clients.find((c) => c.id === items.find((c) => c.id === lastId)!.client_id)!;
  await postAs(request, client, lastId, `Are you there? ${Date.now()}`);
  await expect(
    page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${client.displayName}\\s*\\d+ unread`) }),
  ).toBeVisible();
});

test('a conversation longer than the view keeps opens at its newest messages and goes live from there', async ({
  page,
  request,
  baseURL,
}) => {
  // Ten thousand messages are stored through the API first.
  test.setTimeout(240_000);
  const viewKeeps = 10_000;
  const { therapist, client, conversationId } = await bookedPair(request);
  await postMany(baseURL!, therapist, conversationId, viewKeeps + 30);
  const last = viewKeeps + 31; // after the welcome message

  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  const log = messageLog(page);
  await expect(log.locator(`li[data-seq="${last}"]`)).toBeVisible({ timeout: 60_000 });
  await expect(log.locator('li[data-seq]')).toHaveCount(viewKeeps);
  await expect(log.locator('li[data-seq]').first()).toHaveAttribute('data-seq', String(last - viewKeeps + 1));
  await expect(page.getByText('Only the latest 10,000 messages are shown here.')).toBeVisible();
  await expect.poll(() => unreadCount(request, client, conversationId)).toBe(0);

  // Live from the newest message on.
  const next = await postAs(request, therapist, conversationId, `And one more ${Date.now()}`);
  expect(next.seq).toBe(last + 1);
  await expect(log.getByText(next.body)).toBeVisible();
  await expect.poll(() => unreadCount(request, client, conversationId)).toBe(0);
});

test('a message that arrives while the reader is scrolled up to earlier ones does not pull them away', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  for (let i = 1; i <= 20; i += 1) await postAs(request, client, conversationId, `Earlier note ${i}\nwith a second line`);
  // Tall enough for the whole message log to fit in the window: what is in view is what the log shows.
  await page.setViewportSize({ width: 1280, height: 1100 });
  await logIn(page, therapist);
  await openConversation(page, 'therapist', client.displayName);
  const log = page.getByRole('region', { name: `Messages with ${client.displayName}` });
  await expect(messageLog(page).getByText('Earlier note 20')).toBeInViewport();
  // The therapist scrolls up to read from the start.
  await log.evaluate((element) => element.scrollTo({ top: 0 }));
  await expect(messageLog(page).getByText('Earlier note 1', { exact: false }).first()).toBeInViewport();
  const arrived = `Arrives meanwhile ${Date.now()}`;
  await postAs(request, client, conversationId, arrived);
  await expect(messageLog(page).getByText(arrived)).toBeAttached();
  // Once the page has rendered it (two frames), the reader is still where they were.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  expect(await log.evaluate((element) => element.scrollTop)).toBe(0);
  await expect(messageLog(page).getByText(arrived)).not.toBeInViewport();

  // Their own message brings them down to it; at the bottom, the next one from the client stays in view.
  const answer = `Reading it all now ${Date.now()}`;
  await sendMessage(page, answer);
  await expect(messageLog(page).getByText(answer)).toBeInViewport();
  const next = `One more ${Date.now()}`;
  await postAs(request, client, conversationId, next);
  await expect(messageLog(page).getByText(next)).toBeInViewport();
});

test('on a phone, a conversation opens with its newest message and the composer in view', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  for (let i = 1; i <= 12; i += 1) await postAs(request, therapist, conversationId, `Note ${i}\nwith a second line`);
  await page.setViewportSize({ width: 390, height: 844 });
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  await expect(messageLog(page).getByText('Note 12')).toBeInViewport();
  await expect(page.getByLabel('Message', { exact: true })).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
  // Opened again from the list (its messages already held by the tab), the same.
  await page.getByRole('link', { name: 'All conversations' }).click();
  await page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${therapist.displayName}`) }).click();
  await expect(messageLog(page).getByText('Note 12')).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
});

test('on a touch screen Enter starts a new line (its keyboard has no Shift+Enter); on a desktop Enter sends', async ({
  page,
  browser,
  request,
}) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phonePage = await phone.newPage();
  try {
    await logIn(phonePage, client);
    await openConversation(phonePage, 'client', therapist.displayName);
    const composer = phonePage.getByLabel('Message', { exact: true });
    await expect(composer).toHaveAccessibleDescription(/^Enter starts a new line; the Send button sends\./);
    const first = `Two things ${Date.now()}`;
    await composer.fill(first);
    await composer.press('Enter');
    await composer.pressSequentially('Second line');
    await expect(composer).toHaveValue(`${first}\nSecond line`);
    await phonePage.getByRole('button', { name: 'Send' }).click();
    await expect(messageLog(phonePage).getByRole('listitem').filter({ hasText: first })).toContainText('Second line');
    await expect(messageLog(phonePage).locator('[data-pending]')).toHaveCount(0);
    expect((await storedMessages(request, client, conversationId)).filter((m) => m.body.startsWith(first)).map((m) => m.body)).toEqual([
      `${first}\nSecond line`,
    ]);

    await logIn(page, client);
    await openConversation(page, 'client', therapist.displayName);
    const desktopComposer = page.getByLabel('Message', { exact: true });
    await expect(desktopComposer).toHaveAccessibleDescription(/Enter sends, Shift\+Enter starts a new line/);
    const quick = `Sent with Enter ${Date.now()}`;
    await desktopComposer.fill(quick);
    await desktopComposer.press('Enter');
    await expect(messageLog(page).getByText(quick)).toBeVisible();
    await expect(desktopComposer).toHaveValue('');
  } finally {
    await phone.close();
  }
});

test('after sending with the Send button, the keyboard focus is back in the composer', async ({ page, request }) => {
  const { therapist, client } = await bookedPair(request);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  const composer = page.getByLabel('Message', { exact: true });
  const first = `From the keyboard ${Date.now()}`;
  await composer.fill(first);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Send' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(messageLog(page).getByText(first)).toBeVisible();
  // The Send button is disabled once the box is empty: the focus must not fall to the page.
  await expect(composer).toBeFocused();
  const second = `And clicked ${Date.now()}`;
  await page.keyboard.type(second);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(messageLog(page).getByText(second)).toBeVisible();
  await expect(composer).toBeFocused();
});

test('a pasted text over the length limit is kept whole, said to be too long, and not sent until it fits', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  const composer = page.getByLabel('Message', { exact: true });
  // 9,990 letters and 20 emoji: 10,010 characters as the server counts them (10,030 UTF-16 units).
  const pasted = `${'a'.repeat(9_990)}${'🙂'.repeat(20)}`;
  await composer.fill(pasted);
  await expect(composer).toHaveValue(pasted); // nothing cut off the end
  await expect(page.getByRole('alert')).toContainText('10,010 characters: a message holds at most 10,000');
  await expect(composer).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
  await composer.press('Enter');
  await expect(composer).toHaveValue(pasted);

  // Ten emoji fewer fits: exactly 10,000 characters, sent and stored whole.
  const fitting = pasted.slice(0, pasted.length - 20);
  await composer.fill(fitting);
  await expect(page.getByText('10,000 of 10,000 characters.')).toBeVisible();
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(composer).toHaveValue('');
  await expect
    .poll(async () => (await storedMessages(request, therapist, conversationId)).some((m) => m.body === fitting))
    .toBe(true);
});

test('a message half written is still in the box after a look at another page, and gone once signed out', async ({ page, request }) => {
  const { therapist, client } = await bookedPair(request);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  const composer = page.getByLabel('Message', { exact: true });
  const draft = `I wanted to tell you about last week, when ${Date.now()}`;
  await composer.fill(draft);
  // A look at the appointments, then back to the conversation.
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'My appointments' }).click();
  await openConversation(page, 'client', therapist.displayName);
  await expect(composer).toHaveValue(draft);
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();

  // Never kept past the session: signed out and in again (in the same page, which takes them back), the box is empty.
  await page.getByRole('button', { name: 'Log out' }).click();
  await logInThroughForm(page, client.email, client.password);
  await expect(page.getByRole('heading', { name: `Messages with ${therapist.displayName}` })).toBeVisible();
  await expect(composer).toHaveValue('');
});

/**
 * The server refuses for good (as it would a body it cannot take) every send whose body starts with "Refused", with
 * the code it names as `Refused with <code>` (`Refused with invalid_message`), else `validation_failed`.
 */
async function refuseSomeSends(page: Page, conversationId: string): Promise<void> {
  await page.routeWebSocket(
    (url) => url.pathname === '/api/v1/ws',
    (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const frame = JSON.parse(String(message)) as { type: string; client_message_id?: string; body?: string };
        if (frame.type !== 'send' || !frame.body?.startsWith('Refused')) return server.send(message);
        const code = /^Refused with ([a-z_]+)$/.exec(frame.body)?.[1] ?? 'validation_failed';
        ws.send(
          JSON.stringify({
            type: 'error',
            code,
            detail: 'The message was refused.',
            ref: frame.client_message_id,
            conversation_id: conversationId,
            frame_type: 'send',
          }),
        );
      });
      server.onMessage((message) => ws.send(message));
    },
  );
}

test('each message the server refused has a Discard button that says which message it discards', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await refuseSomeSends(page, conversationId);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  await sendMessage(page, 'Refused first');
  await sendMessage(page, 'Refused second');
  const log = messageLog(page);
  await expect(log.getByText('Not sent: The message was refused.')).toHaveCount(2);
  await log.getByRole('button', { name: 'Discard the message “Refused second”' }).click();
  await expect(log.getByText('Refused second', { exact: true })).toHaveCount(0);
  await expect(log.getByText('Refused first', { exact: true })).toBeVisible();
  await expect(log.getByRole('button', { name: 'Discard the message “Refused first”' })).toBeVisible();
});

test('a send refused with a code no retry can change is marked not sent, and the next message goes', async ({
  page,
  request,
}) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await refuseSomeSends(page, conversationId);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  const permanent = ['invalid_message', 'client_message_id_reused', 'invalid_frame', 'conversation_closed', 'not_found'];
  for (const code of permanent) await sendMessage(page, `Refused with ${code}`);
  await sendMessage(page, 'Then this one');
  const log = messageLog(page);
  for (const code of permanent) {
    await expect(log.getByRole('listitem').filter({ hasText: `Refused with ${code}` })).toContainText('Not sent: The message was refused.');
  }
  // Each refused message waits for the user to discard it; none holds back the conversation's next message.
  await expect(log.getByRole('listitem').filter({ hasText: 'Then this one' })).not.toContainText('Sending');
  expect((await storedMessages(request, client, conversationId)).map((m) => m.body)).toContain('Then this one');
});

test('a body the server can never take is refused once and not sent again and again', async ({ page, request }) => {
  // U+0085 (next line) is whitespace to the server but not to the browser's trim: the composer lets it through and
  // the server refuses it (`invalid_message`), as it would every time.
  const { socket, client, conversationId } = await openWithControlledSocket(page, request);
  await sendMessage(page, '\u0085');
  await expect(messageLog(page).getByText('Not sent: A message needs some text.')).toBeVisible();
  await page.waitForTimeout(13_000); // past the resend delay (10 s) and a tick (2 s)
  expect(socket.written.filter(({ frame }) => frame.type === 'send')).toHaveLength(1);
  expect(await storedMessages(request, client, conversationId)).toHaveLength(1); // the welcome message only
});

test('a message the server refused is announced, not only shown', async ({ page, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await refuseSomeSends(page, conversationId);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);
  await sendMessage(page, 'Refused, and the writer cannot see it');
  await expect(page.getByRole('status').filter({ hasText: 'was not sent' })).toHaveText(
    'Your message “Refused, and the writer cannot see it” was not sent: The message was refused.',
  );
});

test('a therapist edits the welcome message and turns Away on', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await page.getByRole('link', { name: 'Welcome message and away status' }).click();

  // The placeholders of the text it starts with are explained.
  await expect(page.getByLabel('Welcome message text')).toHaveValue(/\{client\}.*\{therapist\}/);
  await expect(page.getByLabel('Welcome message text')).toHaveAccessibleDescription(
    /\{client\} is replaced by the client's first name and \{therapist\} by your name\./,
  );
  const welcome = `Welcome! I answer messages on weekdays, 9 to 5. ${Date.now()}`;
  await page.getByLabel('Welcome message text').fill(welcome);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(page.getByText('Welcome message saved.')).toBeVisible();
  // From the keyboard: the box keeps the focus while its change is saved.
  const away = page.getByLabel('I am away from messaging');
  await away.focus();
  await page.keyboard.press('Space');
  await expect(page.getByText('You are marked away.')).toBeVisible();
  await expect(away).toBeChecked();
  await expect(away).toBeFocused();
  // Changed again while the first change is still being saved: the last one wins.
  await page.keyboard.press('Space');
  await page.keyboard.press('Space');
  await expect(away).toBeFocused();
  await expect(page.getByText('You are marked away.')).toBeVisible();

  await page.reload();
  await expect(page.getByLabel('Welcome message text')).toHaveValue(welcome);
  await expect(page.getByLabel('I am away from messaging')).toBeChecked();
});

test('a therapist marked away is reminded of it on the messaging pages until they turn it off', async ({ page, request }) => {
  const { therapist, client } = await bookedPair(request);
  await setAway(request, therapist, true);
  await logIn(page, therapist);
  const reminder = page.getByText('You are marked away: a client who writes gets an automatic reply');
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await expect(reminder).toBeVisible();
  await openConversation(page, 'therapist', client.displayName);
  await expect(reminder).toBeVisible();

  await page.getByRole('link', { name: 'Change your away status' }).click();
  await page.getByLabel('I am away from messaging').uncheck();
  await expect(page.getByText('You are available.')).toBeVisible();
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await expect(page.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
  await expect(reminder).toHaveCount(0);
});

test('the welcome message editor says "saved" only while what it shows is what is saved', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  await logIn(page, therapist);
  await page.goto('/therapist/messages/settings');
  const editor = page.getByLabel('Welcome message text');
  const saved = page.getByText('Welcome message saved.');

  const welcome = `Welcome! I answer on weekdays. ${Date.now()}`;
  await editor.fill(welcome);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(saved).toBeVisible();
  // Edited again: those edits are not saved yet.
  await editor.press('End');
  await editor.pressSequentially(' Not on weekends.');
  await expect(saved).toHaveCount(0);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(saved).toBeVisible();
  await page.reload();
  await expect(editor).toHaveValue(`${welcome} Not on weekends.`);
});

test('what a therapist types while their welcome message is being saved stays in the box', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  await logIn(page, therapist);
  await page.goto('/therapist/messages/settings');
  const editor = page.getByLabel('Welcome message text');
  await expect(editor).not.toHaveValue('');
  // The save takes a while (a slow network): held until the therapist has typed on.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/v1/therapists/me/welcome-message', async (route) => {
    if (route.request().method() === 'PUT') await held;
    await route.continue();
  });

  const welcome = `Welcome! I answer on weekdays. ${Date.now()}`;
  await editor.fill(welcome);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(page.getByRole('button', { name: 'Saving…' })).toBeVisible();
  await editor.press('End');
  await editor.pressSequentially(' Not on weekends.');
  release();
  await expect(page.getByRole('button', { name: 'Save welcome message' })).toBeEnabled();
  await expect(editor).toHaveValue(`${welcome} Not on weekends.`);
  // The saved text is the one sent; the rest is still to save.
  await expect(page.getByText('Welcome message saved.')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(page.getByText('Welcome message saved.')).toBeVisible();
  await page.reload();
  await expect(editor).toHaveValue(`${welcome} Not on weekends.`);
});

test('logging out with a message not sent yet warns first, then deletes it from the device', async ({ page, context, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await logIn(page, client);
  await openConversation(page, 'client', therapist.displayName);

  await context.setOffline(true);
  await expect(page.getByText(/^You are offline/)).toBeVisible();
  const body = `Written offline, then signed out ${Date.now()}`;
  await sendMessage(page, body);
  await expect(messageLog(page).getByRole('listitem').filter({ hasText: body })).toContainText('Waiting to send');
  await expect.poll(() => outboxCount(page)).toBe(1);

  const banner = page.getByRole('banner');
  await banner.getByRole('button', { name: 'Log out' }).click();
  const warning = banner.getByRole('alertdialog');
  await expect(warning).toContainText('1 message has not been sent yet');
  await warning.getByRole('button', { name: 'Stay signed in' }).click();
  await expect(warning).toHaveCount(0);
  await expect(banner).toContainText(`Signed in as ${client.displayName}`);
  expect(await outboxCount(page)).toBe(1);

  await banner.getByRole('button', { name: 'Log out' }).click();
  await warning.getByRole('button', { name: 'Log out anyway' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect.poll(() => outboxCount(page)).toBe(0);

  // Back online, nothing is sent behind the user's back.
  await context.setOffline(false);
  await page.waitForTimeout(1_000);
  expect((await storedMessages(request, therapist, conversationId)).some((m) => m.body === body)).toBe(false);
});
