import { expect, test } from '@playwright/test';
import { bookableTherapist, logIn } from './scheduling';

/**
 * Prices typed in the SPA reach the server in the currency's ISO 4217 minor units. The browser's Intl data gives
 * the Hungarian forint no decimals while ISO 4217 (and so the server) gives it two: 15000 forints typed were
 * saved as 150.00.
 */
test('a price in forints is saved in ISO 4217 minor units', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Rates and policy' }).click();
  await page.getByLabel('Currency').fill('HUF');
  await page.getByLabel('Price of rate 1').fill('15000');
  await page.getByRole('button', { name: 'Save rates' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Rates saved.' })).toBeVisible();

  const saved = await request.get('/api/v1/therapists/me/billing-settings', {
    headers: { Authorization: `Bearer ${therapist.token}` },
  });
  expect(saved.status()).toBe(200);
  const body = (await saved.json()) as { currency: string; rates: { amount_minor: number }[] };
  expect(body.currency).toBe('HUF');
  expect(body.rates[0]!.amount_minor).toBe(1_500_000);
});
