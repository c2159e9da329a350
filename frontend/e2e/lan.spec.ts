import { chromium, expect, request as playwrightRequest, test } from '@playwright/test';
import { bookedPair, messageLog, openConversation, sendMessage, storedMessages } from './messaging';
import { logIn } from './scheduling';

// A self-hosted Hearth may be opened over plain http on a LAN. That is not a secure context, so the browser hides
// the APIs that need one (crypto.randomUUID, navigator.locks). Loopback addresses count as secure, so the test
// reaches the server under a made-up name the browser resolves to loopback.
const LAN_HOST = 'hearth-lan.test';

test('over plain http on a LAN a client signs in and sends a message', async () => {
  test.setTimeout(60_000);
  const serverURL = process.env.HEARTH_BASE_URL!;
  const lanURL = new URL(serverURL);
  lanURL.hostname = LAN_HOST;
  const request = await playwrightRequest.newContext({ baseURL: serverURL });
  const { launchOptions } = test.info().project.use;
  const browser = await chromium.launch({
    ...launchOptions,
    args: [...(launchOptions?.args ?? []), `--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`],
  });
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
