import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';

/** Stripe.js as the official loader fetches it: https://js.stripe.com/v3 or https://js.stripe.com/<train>/stripe.js. */
const STRIPE_JS = /^https:\/\/js\.stripe\.com\/(v3\/?|[a-z]+\/stripe\.js)(\?.*)?$/;
const CARD_FRAME = 'https://js.stripe.com/v3/fake-card-frame.html';

/**
 * Serves this page the local fake of Stripe.js (stripe-js.js, its card frame card-frame.html) instead of
 * https://js.stripe.com, and sends what it asks https://api.stripe.com to the local fake Stripe API at `apiUrl`
 * (the one Hearth's server talks to), answering with the CORS header Stripe's API sends to browsers.
 */
export async function fakeStripe(page: Page, apiUrl: string): Promise<void> {
  const [script, frame] = await Promise.all([
    readFile(new URL('./stripe-js.js', import.meta.url), 'utf8'),
    readFile(new URL('./card-frame.html', import.meta.url), 'utf8'),
  ]);
  await page.route(STRIPE_JS, (route) => route.fulfill({ contentType: 'text/javascript', body: script }));
  await page.route(CARD_FRAME, (route) => route.fulfill({ contentType: 'text/html', body: frame }));
  await page.route('https://api.stripe.com/**', async (route) => {
    const asked = new URL(route.request().url());
    const response = await route.fetch({ url: `${apiUrl}${asked.pathname}${asked.search}` });
    await route.fulfill({ response, headers: { ...response.headers(), 'access-control-allow-origin': '*' } });
  });
}

/** The client secrets Stripe.js's handleNextAction was called with on this page. */
export function nextActions(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    ((window as unknown as { __fakeStripe?: { nextActions: { clientSecret: string }[] } }).__fakeStripe?.nextActions ?? []).map(
      (call) => call.clientSecret,
    ),
  );
}
