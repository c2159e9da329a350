import { readFile } from 'node:fs/promises';
import { expect, test, type Locator } from '@playwright/test';
import { cspViolations, expectInlineScriptsRefused } from './csp';
import { fakeStripe, nextActions } from './fakes/stripe';
import { bookFirstSlot, bookableTherapist, CLIENT_ZONE, logIn, registerViaApi } from './scheduling';
import type { TestUser } from './users';

/**
 * A completed 50-minute video session from home yields 90834-95 POS 10 on the invoice; the client pays it by card
 * in Stripe's card form (here a local fake of Stripe.js, frontend/e2e/fakes, in front of the local fake Stripe API
 * the server uses); the superbill lists it.
 *
 * Holding the sessions needs the live-session work, so tests/browser/test_billing_spa.py seeds two from Python
 * (recording the completed sessions through BillingService) and passes the people, the dates and the fake Stripe
 * API's address in HEARTH_BILLING_SEED. Run alone (the plain Playwright suite has no seed), these tests are skipped.
 */
interface Seed {
  therapist: TestUser;
  client: TestUser;
  client_id: string;
  service_date: string;
  second_service_date: string;
  stripe_api: string;
}

const raw = process.env.HEARTH_BILLING_SEED;
const seed: Seed | null = raw ? (JSON.parse(raw) as Seed) : null;

test('a held video session from home is coded 90834-95 POS 10, paid by card and on the superbill', async ({ browser }) => {
  test.skip(seed === null, 'seeded by tests/browser/test_billing_spa.py');
  const { therapist, client, service_date: day } = seed!;

  // The therapist sees the coded charge, the rates it came from and the statement.
  const staff = await browser.newPage();
  await logIn(staff, therapist);
  const staffNav = staff.getByRole('navigation', { name: 'Therapist area' });
  await staffNav.getByRole('link', { name: 'Charges' }).click();
  await expect(staff.getByRole('heading', { level: 1, name: 'Charges' })).toBeVisible();
  const row = staff.getByRole('table', { name: 'Charges' }).getByRole('row').filter({ hasText: day });
  await expect(row).toContainText('90834-95');
  await expect(row).toContainText('POS 10 (home)');
  await expect(row).toContainText('F41.1');
  await expect(row).toContainText('$150.00');

  // The diagnoses came from the client's billing record; the therapist adds a secondary one by override.
  await row.getByRole('button', { name: `Override coding of ${day}` }).click();
  const override = staff.getByRole('form', { name: `Override coding of ${day}` });
  await expect(override.getByLabel('CPT')).toHaveValue('90834');
  await override.getByLabel('Diagnoses').fill('F41.1, F32.0');
  await override.getByLabel('Reason').fill('Secondary diagnosis confirmed at intake review');
  await override.getByRole('button', { name: 'Save override' }).click();
  await expect(row).toContainText('F41.1, F32.0');
  await expect(row).toContainText('(overridden)');
  await staffNav.getByRole('link', { name: 'Clients' }).click();
  await staff.getByRole('list', { name: 'Clients' }).getByRole('link', { name: client.displayName }).click();
  await staff.getByRole('tab', { name: 'Billing' }).click();
  await expect(staff.getByLabel('Diagnoses (ICD-10-CM)')).toHaveValue('F41.1');
  await expect(staff.getByLabel('Date of birth')).toHaveValue('1990-04-02');
  await staffNav.getByRole('link', { name: 'Rates and policy' }).click();
  await expect(staff.getByLabel('Price of rate 1')).toHaveValue('150.00');
  await expect(staff.getByLabel('NPI')).toHaveValue('1234567893');

  // The client pays the invoice with a card that goes through, typed into the card form.
  const page = await browser.newPage();
  // Stripe.js, its card frame and its API (the fakes stand in at Stripe's own addresses) pass the SPA's CSP.
  const violations = await cspViolations(page);
  await fakeStripe(page, seed!.stripe_api);
  await logIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Invoices' }).click();
  const invoice = page.getByRole('listitem', { name: `Session on ${day}` });
  await expect(invoice).toContainText('90834-95 · POS 10 (home) · F41.1, F32.0');
  await expect(invoice).toContainText('Due');
  const payButton = invoice.getByRole('button', { name: 'Pay $150.00' });
  await expect(payButton).toBeDisabled(); // until the card form holds a whole card
  await typeCard(invoice, '4242424242424242');
  await expect(payButton).toBeEnabled();
  await payButton.click();
  await expect(invoice).toContainText('Paid');
  await expect(invoice.getByRole('button', { name: /Pay/ })).toHaveCount(0);
  expect(await nextActions(page)).toEqual([]); // no authentication was asked for

  // The superbill for that day lists the session with its codes and what was paid.
  const superbill = page.getByRole('form', { name: 'Superbill' });
  await superbill.getByLabel('From').fill(day);
  await superbill.getByLabel('To').fill(day);
  const downloading = page.waitForEvent('download');
  await superbill.getByRole('button', { name: 'Download superbill' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`superbill-${day}-${day}.pdf`);
  const pdf = (await readFile((await download.path())!)).toString('latin1');
  expect(pdf.startsWith('%PDF')).toBe(true);
  for (const text of ['(90834)', '(95)', '(10)', '(F41.1, F32.0)', `(${day})`, '(USD 150.00)', '(Client: Sam Client)']) {
    expect(pdf, text).toContain(text);
  }
  await expect(page.getByRole('status').filter({ hasText: 'Superbill downloaded.' })).toBeVisible();
  await expectInlineScriptsRefused(page, violations);

  // The statement shows the month's gross, the platform fee and the net.
  await staffNav.getByRole('link', { name: 'Statement' }).click();
  const month = day.slice(0, 7);
  const statementRow = staff.getByRole('table', { name: 'Statement by month' }).getByRole('row', { name: new RegExp(month) });
  await expect(statementRow).toContainText('$150.00');
  await expect(statementRow).toContainText('$4.50');
  await expect(statementRow).toContainText('$145.50');
});

test('a declined card is told so; a card whose bank asks for 3-D Secure is authenticated and the invoice paid', async ({ browser }) => {
  test.skip(seed === null, 'seeded by tests/browser/test_billing_spa.py');
  const { client, second_service_date: day, stripe_api: stripeApi } = seed!;

  // Without a payment provider on the server, the form says so instead of offering a card form.
  const unconfigured = await browser.newPage();
  await unconfigured.route('**/api/v1/payments/config', (route) => route.fulfill({ json: { provider: 'none', publishable_key: null } }));
  await logIn(unconfigured, client);
  await unconfigured.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Invoices' }).click();
  const unpayable = unconfigured.getByRole('listitem', { name: `Session on ${day}` });
  await expect(unpayable).toContainText('Card payments are not set up for this practice.');
  await expect(unpayable.getByRole('button', { name: /Pay/ })).toHaveCount(0);
  await unconfigured.close();

  const page = await browser.newPage();
  const violations = await cspViolations(page);
  await fakeStripe(page, stripeApi);
  await logIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Invoices' }).click();
  const invoice = page.getByRole('listitem', { name: `Session on ${day}` });
  await expect(invoice).toContainText('Due');
  const problem = invoice.getByRole('alert');

  // Stripe's own message for a mistyped number appears in the form's alert, and goes when it is corrected.
  await typeCard(invoice, '4242424242424241');
  await expect(problem).toHaveText('Your card number is invalid.');

  // A card the bank declines: the decline is told, and the invoice can be paid again.
  await typeCard(invoice, '4000000000000002');
  await expect(problem).toHaveText('');
  await invoice.getByRole('button', { name: 'Pay $150.00' }).click();
  await expect(problem).toContainText('Your card was declined.');
  await expect(invoice).toContainText('Payment failed');

  // A card whose bank asks the client to authenticate: the server answers requires_action with the
  // PaymentIntent's client secret, Stripe.js runs 3-D Secure with it, and the provider's webhook pays the invoice.
  await typeCard(invoice, '4000002760003184');
  await invoice.getByLabel('Keep this card for late-cancellation and no-show fees').check();
  const paying = page.waitForResponse(
    (response) => response.request().method() === 'POST' && /\/api\/v1\/invoices\/[^/]+\/payments$/.test(response.url()),
  );
  await invoice.getByRole('button', { name: 'Pay $150.00' }).click();
  const answer = (await (await paying).json()) as { requires_action: boolean; client_secret: string | null };
  expect(answer.requires_action).toBe(true);
  expect(answer.client_secret).toMatch(/^pi_\w+_secret_\w+$/);
  await expect(invoice).toContainText('Paid');
  await expect(invoice.getByRole('button', { name: /Pay/ })).toHaveCount(0);
  expect(await nextActions(page)).toEqual([answer.client_secret]);
  expect(violations).toEqual([]);
});

test('a therapist is told that rates, the policy and a client\'s billing record were saved', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'video');
  await logIn(page, therapist);

  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Rates and policy' }).click();
  await page.getByLabel('Price of rate 1').fill('130');
  await page.getByRole('button', { name: 'Save rates' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Rates saved.' })).toBeVisible();
  await expect(page.getByLabel('Price of rate 1')).toHaveValue('130');
  // Saving again sends the new version's ETag: no conflict with its own save.
  await page.getByRole('button', { name: 'Save rates' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Rates saved.' })).toBeVisible();

  const policy = page.getByRole('form', { name: 'Cancellation policy' });
  await policy.getByLabel('Cancellation window (hours)').fill('48');
  await policy.getByRole('button', { name: 'Publish policy' }).click();
  await expect(policy.getByRole('status').filter({ hasText: 'Policy version 1 published.' })).toBeVisible();
  await expect(policy).toContainText('Version 1 is current.');
  await policy.getByRole('button', { name: 'Publish policy' }).click();
  await expect(policy.getByRole('status').filter({ hasText: 'Policy version 2 published.' })).toBeVisible();

  await page.goto(`/therapist/clients/${client.id}`);
  await page.getByRole('tab', { name: 'Billing' }).click();
  await page.getByLabel('Diagnoses (ICD-10-CM)').fill('F41.1');
  await page.getByRole('button', { name: 'Save billing record' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing record saved.' })).toBeVisible();
  await expect(page.getByLabel('Diagnoses (ICD-10-CM)')).toHaveValue('F41.1');
});

/**
 * Types a card number into the payment provider's card form (its own frame) of an invoice's pay form. The form is
 * scrolled into view first: headless Chromium routes a click made right after scrolling to where a cross-site
 * frame was before the scroll, so a click on the Pay button that needed a scroll would land in the card frame.
 */
async function typeCard(invoice: Locator, number: string): Promise<void> {
  await invoice.getByRole('form').scrollIntoViewIfNeeded();
  await invoice.getByRole('group', { name: 'Card', exact: true }).frameLocator('iframe').getByLabel('Card number').fill(number);
}
