import { expect, test } from '@playwright/test';
import { bookedPair } from './messaging';
import { CLIENT_ZONE, logIn, registerViaApi } from './scheduling';
import { holdRefreshesTogether } from './tabs';
import { expectSignedIn, logInThroughForm, newUser, registerThroughForm } from './users';

test('a call answered 401 is retried once after a cookie refresh', async ({ page }) => {
  const client = newUser('client');
  await registerThroughForm(page, client);
  await expectSignedIn(page, client);

  // Make the server's first /me after the reload look like an expired access token.
  let meCalls = 0;
  await page.route('**/api/v1/me', async (route) => {
    meCalls += 1;
    if (meCalls === 1) {
      await route.fulfill({
        status: 401,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'token_expired' }),
      });
    } else {
      await route.continue();
    }
  });
  const refreshes: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/v1/auth/refresh')) refreshes.push(request.method());
  });

  await page.reload();

  await expectSignedIn(page, client);
  expect(meCalls).toBe(2);
  // One refresh restores the session on start, one more answers the 401.
  expect(refreshes).toEqual(['POST', 'POST']);
});

const unavailable = {
  status: 503,
  contentType: 'application/problem+json',
  body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }),
};

test('a refresh answered 503 once is retried, and the user stays signed in', async ({ page }) => {
  const client = newUser('client');
  await registerThroughForm(page, client);
  await expectSignedIn(page, client);

  let refreshes = 0;
  await page.route('**/api/v1/auth/refresh', async (route) => {
    refreshes += 1;
    if (refreshes === 1) await route.fulfill(unavailable);
    else await route.continue();
  });
  // The reload restores the session through a refresh; the first one meets a restarting server.
  await page.reload();

  await expectSignedIn(page, client);
  expect(refreshes).toBe(2);
});

test('while refreshes keep failing the page reports a connection problem, then recovers without a new sign-in', async ({
  page,
}) => {
  const client = newUser('client');
  await registerThroughForm(page, client);
  await expectSignedIn(page, client);

  await page.route('**/api/v1/auth/refresh', (route) => route.fulfill(unavailable));
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: /^Connection problem/ })).toBeVisible();
  await expect(page).toHaveURL(/\/client$/);

  await page.unroute('**/api/v1/auth/refresh');
  // The next retry comes after a backoff of a few seconds.
  await expect(page.getByRole('banner')).toContainText(`Signed in as ${client.displayName}`, { timeout: 15_000 });
  await expectSignedIn(page, client);
  await expect(page.getByRole('status').filter({ hasText: /^Connection problem/ })).toHaveCount(0);
});

test('three tabs opened at once all stay signed in', async ({ context, page }) => {
  const client = newUser('client');
  await registerThroughForm(page, client);
  await expectSignedIn(page, client);

  await holdRefreshesTogether(context, 3);
  const tabs = [page, await context.newPage(), await context.newPage()];
  await Promise.all(tabs.map((tab) => tab.goto('/client')));
  for (const tab of tabs) await expectSignedIn(tab, client);

  // The session was not revoked: the next refresh works too.
  await context.unroute('**/api/v1/auth/refresh');
  await tabs[1]!.reload();
  await expectSignedIn(tabs[1]!, client);
});

test('a session ended elsewhere signs the tab out, and the next person sees none of the previous user’s data', async ({
  page,
  request,
}) => {
  const { therapist, client } = await bookedPair(request);
  const next = await registerViaApi(request, 'client', CLIENT_ZONE);
  const tokens = page.waitForResponse('**/api/v1/auth/token');
  await logIn(page, client);
  const { access_token } = (await (await tokens).json()) as { access_token: string };
  const messages = page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Messages' });
  await messages.click();
  const conversations = page.getByRole('list', { name: 'Conversations' });
  await expect(conversations.getByRole('link', { name: new RegExp(`^${therapist.displayName}`) })).toBeVisible();

  // Ended from another device (as a revoked or timed-out session is): the live socket hears it and the tab signs out.
  const ended = await request.post('/api/v1/auth/logout', { headers: { Authorization: `Bearer ${access_token}` } });
  expect(ended.status()).toBe(204);
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your session has ended' })).toBeVisible();

  // The next person signs in at the same tab, and lands back on Messages (where the session ended). While their
  // conversations load (slowly), nothing of the previous user's shows.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/api\/v1\/conversations(\?|$)/, async (route) => {
    await held;
    await route.continue();
  });
  await logInThroughForm(page, next.email, next.password);
  await expect(page.getByRole('banner')).toContainText(`Signed in as ${next.displayName}`);
  await expect(page.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
  await expect(page.getByText(therapist.displayName)).toHaveCount(0);
  release();
  await expect(page.getByText(/^No conversations yet/)).toBeVisible();
  await expect(page.getByText(therapist.displayName)).toHaveCount(0);
});
