import { expect, type Page } from '@playwright/test';

export interface TestUser {
  role: 'therapist' | 'client';
  displayName: string;
  email: string;
  password: string;
}

/** A fresh user per test run, so tests never depend on what an earlier run left in the database. */
export function newUser(role: TestUser['role']): TestUser {
  const id = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    role,
    displayName: `E2E ${role} ${id}`,
    email: `e2e-${role}-${id}@example.com`,
    password: `Quiet-harbour-${id}`,
  };
}

/** Registers through the form; `timezone` replaces the browser's zone the form suggests. */
export async function registerThroughForm(page: Page, user: TestUser, timezone?: string): Promise<void> {
  await page.goto('/register');
  await page.getByRole('radio', { name: user.role === 'therapist' ? 'Therapist' : 'Client' }).check();
  await page.getByLabel('Display name').fill(user.displayName);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await expect(page.getByLabel('Time zone')).not.toHaveValue('');
  if (timezone) await page.getByLabel('Time zone').fill(timezone);
  await page.getByRole('button', { name: 'Create account' }).click();
}

export async function logInThroughForm(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

export async function expectSignedIn(page: Page, user: TestUser): Promise<void> {
  await expect(page).toHaveURL(new RegExp(`/${user.role}$`));
  await expect(page.getByRole('banner')).toContainText(`Signed in as ${user.displayName}`);
}
