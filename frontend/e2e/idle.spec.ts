import { expect, test, type Page } from '@playwright/test';
import { bookedPair, messageLog, openConversation, outboxCount, sendMessage, storedMessages } from './messaging';
import { logIn } from './scheduling';
import { expectSignedIn, newUser, registerThroughForm } from './users';

// Run by tests/browser/test_idle_spa.py against a server whose idle limits are 30 seconds and whose access tokens
// last 6 (so a tab's polls need a refresh every ~11 s, the server allowing 5 s of clock skew).
const IDLE_MS = 30_000;

// Each test mostly waits out the idle limit: run side by side (the harness gives one worker per test), they take
// as long as the slowest, not the sum.
test.describe.configure({ mode: 'parallel', timeout: 120_000 });

interface Refresh {
  idle_seconds?: number;
}

/** The bodies of the page's token refreshes, and the idle time the server said was left after each. */
function watchRefreshes(page: Page) {
  const sent: Refresh[] = [];
  const left: number[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/auth/refresh')) sent.push((request.postDataJSON() ?? {}) as Refresh);
  });
  page.on('response', async (response) => {
    if (response.url().endsWith('/api/v1/auth/refresh') && response.ok()) {
      left.push(((await response.json()) as { idle_expires_in: number }).idle_expires_in);
    }
  });
  return { sent, left };
}

const signedOutForInactivity = (page: Page) =>
  page.getByRole('status').filter({ hasText: 'signed out after a period of inactivity' });

/** Moves the mouse now and then for `ms`, as someone reading and pointing would. */
async function stayActive(page: Page, ms: number): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    await page.mouse.move(100 + Math.random() * 400, 100 + Math.random() * 300);
    await page.waitForTimeout(3_000);
  }
}

test('a therapist who leaves the tab alone is signed out at the idle limit, though its polls keep refreshing', async ({
  page,
}) => {
  const therapist = newUser('therapist');
  await registerThroughForm(page, therapist);
  await expectSignedIn(page, therapist);
  const lastInput = Date.now();
  const refreshes = watchRefreshes(page);

  // No input from here on. The safety-alert poll (every 4 s, in the background too) keeps going, its access token
  // runs out and is refreshed: those refreshes say the user has been away and do not keep the session.
  await expect(page).toHaveURL(/\/login$/, { timeout: IDLE_MS + 15_000 });
  await expect(signedOutForInactivity(page)).toBeVisible();
  expect(Date.now() - lastInput).toBeGreaterThan(IDLE_MS - 5_000);

  expect(refreshes.sent.length).toBeGreaterThanOrEqual(2);
  for (const body of refreshes.sent) expect(body.idle_seconds).toBeGreaterThanOrEqual(5);
  // The server agreed: each refresh left less time than the one before.
  expect(refreshes.left.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < refreshes.left.length; i += 1) expect(refreshes.left[i]!).toBeLessThan(refreshes.left[i - 1]!);

  // Signed out for good: a reload does not bring the session back.
  await page.goto('/therapist');
  await expect(page).toHaveURL(/\/login$/);
});

test('a therapist who keeps using the page stays signed in past the idle limit', async ({ page }) => {
  const therapist = newUser('therapist');
  await registerThroughForm(page, therapist);
  await expectSignedIn(page, therapist);

  await stayActive(page, IDLE_MS + 20_000);

  await expectSignedIn(page, therapist);
  await page.reload();
  await expectSignedIn(page, therapist);
});

test('activity with no request at all is declared before the server’s deadline, so the session lives on', async ({
  page,
}) => {
  // A client's overview polls nothing: the only refreshes are the ones that declare the user's activity.
  const client = newUser('client');
  await registerThroughForm(page, client);
  await expectSignedIn(page, client);
  const refreshes = watchRefreshes(page);

  await stayActive(page, IDLE_MS + 15_000);

  expect(refreshes.sent.length).toBeGreaterThanOrEqual(1);
  for (const body of refreshes.sent) expect(body.idle_seconds).toBeLessThan(5);
  // A reload past the first deadline: the server still holds the session.
  await page.reload();
  await expectSignedIn(page, client);
});

test('an idle sign-out deletes the messages still waiting to be sent', async ({ page, context, request }) => {
  const { therapist, client, conversationId } = await bookedPair(request);
  await logIn(page, therapist);
  await openConversation(page, 'therapist', client.displayName);

  await context.setOffline(true);
  const body = `Written offline, then left ${Date.now()}`;
  await sendMessage(page, body);
  await expect(messageLog(page).getByRole('listitem').filter({ hasText: body })).toContainText('Waiting to send');
  await expect.poll(() => outboxCount(page)).toBe(1);

  // Offline the server cannot be told; the tab signs out on its own.
  await expect(page).toHaveURL(/\/login$/, { timeout: IDLE_MS + 15_000 });
  await expect(signedOutForInactivity(page)).toBeVisible();
  await expect.poll(() => outboxCount(page)).toBe(0);

  await context.setOffline(false);
  await page.waitForTimeout(2_000);
  // The set-up's access token has long expired (they last seconds here).
  const login = await request.post('/api/v1/auth/token', { form: { username: therapist.email, password: therapist.password } });
  const { access_token } = (await login.json()) as { access_token: string };
  const stored = await storedMessages(request, { ...therapist, token: access_token }, conversationId);
  expect(stored.some((m) => m.body === body)).toBe(false);
});
