// Set-up through the API for scheduling tests whose UI path another test already covers (registration, profile
// and office-hours editors, booking). Every helper talks to the same server the browser uses.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { newUser, type TestUser } from './users';

export const THERAPIST_ZONE = 'America/New_York';
export const CLIENT_ZONE = 'Europe/Berlin';

export interface ApiUser extends TestUser {
  id: string;
  token: string;
  timezone: string;
}

export interface Appointment {
  id: string;
  therapist_id: string;
  client_id: string;
  start: string;
  end: string;
  duration_minutes: number;
  modality: string;
  status: string;
  policy_version?: number | null;
  cancelled_by?: string | null;
}

const bearer = (user: ApiUser) => ({ Authorization: `Bearer ${user.token}` });

export async function registerViaApi(request: APIRequestContext, role: TestUser['role'], timezone: string): Promise<ApiUser> {
  const user = newUser(role);
  const registered = await request.post('/api/v1/auth/register', {
    data: { email: user.email, password: user.password, role, display_name: user.displayName, timezone },
  });
  expect(registered.status()).toBe(201);
  const token = await request.post('/api/v1/auth/token', { form: { username: user.email, password: user.password } });
  expect(token.status()).toBe(200);
  const { access_token } = (await token.json()) as { access_token: string };
  const me = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${access_token}` } });
  expect(me.status()).toBe(200);
  const { id } = (await me.json()) as { id: string };
  return { ...user, id, token: access_token, timezone };
}

/**
 * A therapist offering 20 and 50 minutes by video and audio, open every day 00:00–24:00 with no notice, so a test
 * never depends on the time of day. A cancellation window of 0 makes every cancellation an ordinary one.
 */
export async function bookableTherapist(
  request: APIRequestContext,
  modalities: string[] = ['video', 'audio'],
): Promise<ApiUser> {
  const therapist = await registerViaApi(request, 'therapist', THERAPIST_ZONE);
  const current = await request.get('/api/v1/therapists/me/profile', { headers: bearer(therapist) });
  expect(current.status()).toBe(200);
  const saved = await request.put('/api/v1/therapists/me/profile', {
    headers: { ...bearer(therapist), 'If-Match': current.headers()['etag']! },
    data: {
      display_name: therapist.displayName,
      bio: 'Short sessions for busy people.',
      licenses: ['US-NY'],
      specialties: ['anxiety'],
      languages: ['en'],
      modalities,
      session_lengths: [20, 50],
      rates: [
        { duration_minutes: 20, amount_minor: 6000, currency: 'USD' },
        { duration_minutes: 50, amount_minor: 12000, currency: 'USD' },
      ],
      timezone: THERAPIST_ZONE,
      accepting_new_clients: true,
      caseload_capacity: 25,
      cancellation_window_hours: 0,
    },
  });
  expect(saved.status()).toBe(200);
  const hours = await request.put('/api/v1/therapists/me/office-hours', {
    headers: bearer(therapist),
    data: {
      timezone: THERAPIST_ZONE,
      weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })),
      min_notice_minutes: 0,
      horizon_days: 60,
    },
  });
  expect(hours.status()).toBe(200);
  return therapist;
}

/**
 * Books the first free slot that starts at least `leadMinutes` from now (15 by default, so the request cannot race
 * the clock into `too_short_notice`), on a grid of `stepMinutes`.
 */
export async function bookFirstSlot(
  request: APIRequestContext,
  client: ApiUser,
  therapist: ApiUser,
  durationMinutes: number,
  modality: string,
  leadMinutes = 15,
  stepMinutes = 15,
): Promise<Appointment> {
  const now = Date.now();
  const slots = await request.get(`/api/v1/therapists/${therapist.id}/slots`, {
    headers: bearer(client),
    params: {
      start: new Date(now + leadMinutes * 60_000).toISOString(),
      end: new Date(now + 7 * 86_400_000).toISOString(),
      duration_minutes: durationMinutes,
      modality,
      step_minutes: stepMinutes,
    },
  });
  expect(slots.status()).toBe(200);
  const { slots: free } = (await slots.json()) as { slots: { start: string }[] };
  expect(free.length).toBeGreaterThan(0);
  const booked = await request.post('/api/v1/appointments', {
    headers: { ...bearer(client), 'Idempotency-Key': crypto.randomUUID() },
    data: { therapist_id: therapist.id, start: free[0]!.start, duration_minutes: durationMinutes, modality },
  });
  expect(booked.status()).toBe(201);
  return (await booked.json()) as Appointment;
}

export interface PolicyInput {
  window_hours: number;
  late_cancellation?: { flat_amount_minor?: number; percent_bp?: number } | null;
  no_show?: { flat_amount_minor?: number; percent_bp?: number } | null;
}

/** Publishes the therapist's next cancellation policy version and returns its number. */
export async function publishPolicyViaApi(request: APIRequestContext, therapist: ApiUser, policy: PolicyInput): Promise<number> {
  const current = await request.get(`/api/v1/therapists/${therapist.id}/cancellation-policy`, { headers: bearer(therapist) });
  const etag = current.status() === 200 ? current.headers()['etag']! : '"v0"';
  const published = await request.put('/api/v1/therapists/me/cancellation-policy', {
    headers: { ...bearer(therapist), 'If-Match': etag },
    data: policy,
  });
  expect(published.status(), await published.text()).toBe(200);
  return ((await published.json()) as { version: number }).version;
}

export async function listAppointmentsViaApi(request: APIRequestContext, user: ApiUser): Promise<Appointment[]> {
  const response = await request.get('/api/v1/appointments', { headers: bearer(user) });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { items: Appointment[] }).items;
}

export async function cancelViaApi(request: APIRequestContext, user: ApiUser, id: string): Promise<void> {
  const response = await request.post(`/api/v1/appointments/${id}/cancel`, { headers: bearer(user), data: {} });
  expect(response.status()).toBe(200);
}

export async function getAppointment(request: APIRequestContext, user: ApiUser, id: string): Promise<Appointment> {
  const response = await request.get(`/api/v1/appointments/${id}`, { headers: bearer(user) });
  expect(response.status()).toBe(200);
  return (await response.json()) as Appointment;
}

export async function logIn(page: Page, user: TestUser): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(new RegExp(`/${user.role}$`));
}

/** The local calendar date ('YYYY-MM-DD') of an instant in a zone. */
export function localDate(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(instant),
  );
}

/**
 * Picks the first free time of the second day the picker lists. The first day's first time can be seconds away
 * (the therapist asks no notice), the second day's is always at least 15 minutes away, whatever the clock says.
 */
export async function pickFirstTimeOfSecondDay(picker: Locator): Promise<void> {
  const day = picker.locator('details').nth(1);
  await day.locator('summary').click();
  await day.getByRole('button').first().click();
}

/** Finds a therapist in the directory, showing more pages while they are not on the ones loaded. */
export async function openTherapistFromDirectory(page: Page, displayName: string): Promise<void> {
  const link = page.getByRole('link', { name: displayName, exact: true });
  const more = page.getByRole('button', { name: 'Show more therapists' });
  await expect(page.getByRole('list', { name: 'Therapists' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: /Showing \d+/ })).toBeVisible();
  while (!(await link.isVisible()) && (await more.isVisible())) {
    await more.click();
    await expect(page.getByRole('button', { name: 'Loading…' })).toHaveCount(0);
  }
  await link.click();
}
