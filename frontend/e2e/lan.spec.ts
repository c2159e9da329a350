import { chromium, expect, request as playwrightRequest, test, type Browser } from '@playwright/test';
import { bookedPair, messageLog, openConversation, sendMessage, storedMessages } from './messaging';
import { logIn } from './scheduling';
import { holdRefreshesTogether } from './tabs';
import { expectSignedIn, newUser, registerThroughForm } from './users';

// A self-hosted Hearth may be opened over plain http on a LAN. That is not a secure context, so the browser hides
// the APIs that need one (crypto.randomUUID, navigator.locks). Loopback addresses count as secure, so the test
// reaches the server under a made-up name the browser resolves to loopback.
const LAN_HOST = 'hearth-lan.test';

const serverURL = process.env.HEARTH_BASE_URL!;
const lanURL = new URL(serverURL);
lanURL.hostname = LAN_HOST;

function launchOnLan(): Promise<Browser> {
  const { launchOptions } = test.info().project.use;
  return chromium.launch({
    ...launchOptions,
    args: [...(launchOptions?.args ?? []), `--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`],
  });
}

test.describe.configure({ timeout: 60_000 });

test('over plain http on a LAN a client signs in and sends a message', async () => {
  const request = await playwrightRequest.newContext({ baseURL: serverURL });
  const browser = await launchOnLan();
  try {
    const { therapist, client, conversationId } = await bookedPair(request);
    const page = await (await browser.newContext({ baseURL: lanURL.origin })).newPage();
    await logIn(page, client);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    await openConversation(page, 'client', therapist.displayName);

    const body = `Sent from the clinic's LAN ${Date.now()}`;
    await sendMessage(page, body);
    await expect(messageLog(page).getByRole('listitem').filter({ hasText: body })).not.toContainText(/Sending|Waiting to send/);
    const stored = await storedMessages(request, therapist, conversationId);
    expect(stored.filter((m) => m.body === body)).toHaveLength(1);
  } finally {
    await browser.close();
    await request.dispose();
  }
});

test('over plain http on a LAN three tabs opened at once all stay signed in', async () => {
  // No Web Locks outside a secure context: the tabs take turns through the fallback.
  const browser = await launchOnLan();
  try {
    const context = await browser.newContext({ baseURL: lanURL.origin });
    const page = await context.newPage();
    const client = newUser('client');
    await registerThroughForm(page, client);
    await expectSignedIn(page, client);
    expect(await page.evaluate(() => 'locks' in navigator)).toBe(false);

    await holdRefreshesTogether(context, 3);
    const tabs = [page, await context.newPage(), await context.newPage()];
    await Promise.all(tabs.map((tab) => tab.goto('/client')));
    for (const tab of tabs) await expectSignedIn(tab, client);
    await context.unroute('**/api/v1/auth/refresh');
    await tabs[2]!.reload();
    await expectSignedIn(tabs[2]!, client);
  } finally {
    await browser.close();
  }
});
