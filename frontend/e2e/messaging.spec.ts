import { expect, test } from '@playwright/test';
import { bookedPair, clientLabelOf, messageLog, openConversation, sendMessage, storedMessages } from './messaging';
import { bookableTherapist, logIn } from './scheduling';

// Two users registered and signed in, in two browser contexts: more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 60_000 });

test('client and therapist exchange messages live, with typing and read receipts', async ({ page, browser, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  const therapistContext = await browser.newContext();
  const therapistPage = await therapistContext.newPage();
  try {
    await logIn(page, client);
    await openConversation(page, 'client', therapist.displayName);
    // The booking opened the conversation with the therapist's welcome message.
    await expect(messageLog(page).getByText(`Welcome message from ${therapist.displayName}`)).toBeVisible();

    await logIn(therapistPage, therapist);
    await openConversation(therapistPage, 'therapist', clientLabelOf(client));

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
    await openConversation(therapistPage, 'therapist', clientLabelOf(client));

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

test('a therapist edits the welcome message and turns Away on', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Messages' }).click();
  await page.getByRole('link', { name: 'Welcome message and away status' }).click();

  const welcome = `Welcome! I answer messages on weekdays, 9 to 5. ${Date.now()}`;
  await page.getByLabel('Welcome message text').fill(welcome);
  await page.getByRole('button', { name: 'Save welcome message' }).click();
  await expect(page.getByText('Welcome message saved.')).toBeVisible();
  await page.getByLabel('I am away from messaging').check();
  await expect(page.getByText('You are marked away.')).toBeVisible();

  await page.reload();
  await expect(page.getByLabel('Welcome message text')).toHaveValue(welcome);
  await expect(page.getByLabel('I am away from messaging')).toBeChecked();
});
