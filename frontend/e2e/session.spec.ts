import { expect, test } from '@playwright/test';
import { expectSignedIn, newUser, registerThroughForm } from './users';

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
