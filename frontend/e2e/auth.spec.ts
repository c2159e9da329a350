import { expect, test } from '@playwright/test';
import { expectSignedIn, logInThroughForm, newUser, registerThroughForm } from './users';

test('a therapist registers, logs out, logs in again and lands in the therapist area', async ({ page }) => {
  const therapist = newUser('therapist');

  await registerThroughForm(page, therapist);
  await expectSignedIn(page, therapist);
  await expect(page.getByRole('heading', { level: 1, name: 'Therapist area' })).toBeVisible();

  // The access token lives in memory only; a reload restores the session from the httpOnly refresh cookie.
  expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
  await page.reload();
  await expectSignedIn(page, therapist);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText(`Signed in as ${therapist.displayName}`)).toHaveCount(0);

  // Signed out, the area is closed again.
  await page.goto('/therapist');
  await expect(page).toHaveURL(/\/login$/);

  await logInThroughForm(page, therapist.email, therapist.password);
  await expectSignedIn(page, therapist);
});

test('a client registers, logs out, logs in again and lands in the client area', async ({ page }) => {
  const client = newUser('client');

  await registerThroughForm(page, client);
  await expectSignedIn(page, client);
  await expect(page.getByRole('heading', { level: 1, name: 'Client area' })).toBeVisible();

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await logInThroughForm(page, client.email, client.password);
  await expectSignedIn(page, client);

  // A client who opens the therapist area is sent back to their own.
  await page.goto('/therapist');
  await expectSignedIn(page, client);
});

test('a wrong password shows the server’s message and stays on the login page', async ({ page, request }) => {
  const client = newUser('client');
  const registered = await request.post('/api/v1/auth/register', {
    data: {
      email: client.email,
      password: client.password,
      role: client.role,
      display_name: client.displayName,
      timezone: 'Europe/Berlin',
    },
  });
  expect(registered.status()).toBe(201);

  // Ask the server what it says about a wrong password, so the test checks the UI shows exactly that.
  const refused = await request.post('/api/v1/auth/token', {
    form: { username: client.email, password: `${client.password}-wrong` },
  });
  expect(refused.status()).toBe(401);
  const problem = (await refused.json()) as { detail?: string; title?: string };
  const message = problem.detail || problem.title;
  expect(message).toBeTruthy();

  await page.goto('/login');
  await logInThroughForm(page, client.email, `${client.password}-wrong`);

  await expect(page.getByRole('alert')).toContainText(message!);
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Log in' })).toBeVisible();
});
