import { expect, test, type APIRequestContext } from '@playwright/test';
import { messageLog, openConversation } from './messaging';
import { uniqueRegion } from './regions';
import { getAppointment, logIn, pickFirstTimeOfSecondDay, registerViaApi, THERAPIST_ZONE, type ApiUser } from './scheduling';
import { expectSignedIn, newUser, registerThroughForm } from './users';

test.describe.configure({ timeout: 90_000 });

/** A therapist licensed in `region`, open every day around the clock, published through the public API. */
async function matchableTherapist(request: APIRequestContext, region: string, specialties: string[]): Promise<ApiUser> {
  const therapist = await registerViaApi(request, 'therapist', THERAPIST_ZONE);
  const headers = { Authorization: `Bearer ${therapist.token}` };
  const current = await request.get('/api/v1/therapists/me/profile', { headers });
  const saved = await request.put('/api/v1/therapists/me/profile', {
    headers: { ...headers, 'If-Match': current.headers()['etag']! },
    data: {
      display_name: therapist.displayName,
      bio: 'Here to help.',
      licenses: [region],
      specialties,
      languages: ['en'],
      modalities: ['video', 'audio'],
      session_lengths: [50],
      rates: [{ duration_minutes: 50, amount_minor: 12000, currency: 'USD' }],
      timezone: THERAPIST_ZONE,
      accepting_new_clients: true,
      caseload_capacity: 20,
      cancellation_window_hours: 24,
    },
  });
  expect(saved.status()).toBe(200);
  const hours = await request.put('/api/v1/therapists/me/office-hours', {
    headers,
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

test('a new client completes the intake, sees three suggestions with reasons, chooses one and gets a welcome', async ({
  page,
  request,
}) => {
  const region = uniqueRegion();
  const best = await matchableTherapist(request, region, ['anxiety', 'grief']);
  await matchableTherapist(request, region, ['anxiety']);
  await matchableTherapist(request, region, ['grief']);
  await matchableTherapist(request, 'US-NY', ['anxiety', 'grief']); // licensed elsewhere: never suggested

  const client = newUser('client');
  await registerThroughForm(page, client, 'America/New_York');
  await expectSignedIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Get matched' }).click();

  await expect(page.getByText('Step 1 of 5: What brings you here')).toBeVisible();
  await page.getByLabel('anxiety').check();
  await page.getByLabel('grief').check();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 2 of 5')).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 3 of 5')).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 4 of 5')).toBeVisible();
  await page.getByRole('textbox', { name: 'Where you live' }).fill(region);
  await page.getByRole('button', { name: 'Save and finish later' }).click();
  await expect(page.getByText('Saved. You can come back and finish any time.')).toBeVisible();

  // Resume: a reload comes back to the same step with the answers kept.
  await page.reload();
  await expect(page.getByText('Step 4 of 5')).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Where you live' })).toHaveValue(region);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 5 of 5: Review and consent')).toBeVisible();
  await page.getByLabel('I agree to be matched with a therapist using these answers').check();
  await page.getByRole('button', { name: 'Send my answers' }).click();

  await expect(page.getByRole('heading', { name: 'Your matches', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Show my best matches' }).click();
  const cards = page.getByRole('article');
  await expect(cards).toHaveCount(3);
  const first = cards.first();
  await expect(first.getByRole('heading', { name: best.displayName })).toBeVisible();
  const reasons = first.getByRole('list', { name: `Reasons for ${best.displayName}` });
  await expect(reasons).toContainText(`licensed in ${region}`);
  await expect(reasons).toContainText('specializes in anxiety and grief');
  await expect(reasons).toContainText(/open times? in the next 14 days/);
  await expect(first.getByRole('list', { name: `Next open times with ${best.displayName}` }).getByRole('listitem')).toHaveCount(3);

  await first.getByRole('button', { name: `Choose ${best.displayName}` }).click();
  await expect(page.getByText(`You are now working with ${best.displayName}.`)).toBeVisible();
  await openConversation(page, 'client', best.displayName);
  await expect(messageLog(page).getByText(`Welcome message from ${best.displayName}`)).toBeVisible();
});

test('a client matched to a therapist, with nothing booked, is on the therapist’s Clients page and opens their chart', async ({
  page,
  request,
}) => {
  const region = uniqueRegion();
  const therapist = await matchableTherapist(request, region, ['anxiety']);
  const client = await registerViaApi(request, 'client', 'America/New_York');
  const headers = { Authorization: `Bearer ${client.token}` };
  const intake = await request.post('/api/v1/intake', {
    headers,
    data: {
      concerns: ['anxiety'],
      prior_therapy: 'never',
      modalities: ['video'],
      session_minutes: 50,
      language: 'en',
      residence: region,
      timezone: 'America/New_York',
      consent_to_match: true,
    },
  });
  expect(intake.status()).toBe(201);
  const auto = await request.post('/api/v1/matches', { headers, data: { mode: 'automatic' } });
  expect(((await auto.json()) as { therapist_id: string }).therapist_id).toBe(therapist.id);

  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Clients' }).click();
  const card = page.getByRole('list', { name: 'Clients' }).getByRole('listitem').filter({ hasText: client.displayName });
  await expect(card).toContainText('nothing booked');
  await card.getByRole('link', { name: client.displayName }).click();
  await expect(page).toHaveURL(new RegExp(`/therapist/clients/${client.id}`));
  await expect(page.getByRole('tab', { name: 'Plan' })).toBeVisible();
});

test('the intake will not go on without its required answers, and a refused answer is shown at its question in plain words', async ({
  page,
  request,
}) => {
  const client = await registerViaApi(request, 'client', 'America/New_York');
  // A draft saved elsewhere that skipped both required questions and stopped at the last step.
  const draft = await request.put('/api/v1/intake', {
    headers: { Authorization: `Bearer ${client.token}` },
    data: { step: 4, answers: { language: 'en', timezone: 'America/New_York' } },
  });
  expect(draft.status()).toBe(200);
  await logIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Get matched' }).click();
  await expect(page.getByText('Step 5 of 5: Review and consent')).toBeVisible();
  await page.getByLabel('I agree to be matched with a therapist using these answers').check();
  await page.getByRole('button', { name: 'Send my answers' }).click();

  // Back at the first unanswered question, told what to do, with no field names or developer wording.
  await expect(page.getByText('Step 1 of 5: What brings you here')).toBeVisible();
  await expect(page.getByText('Choose at least one thing you would like help with.')).toBeVisible();
  await expect(page.getByRole('group', { name: /What would you like help with/ })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('anxiety')).toBeFocused();
  await expect(page.getByRole('alert')).toHaveText(
    'Please check these answers: What would you like help with? (step 1); Where you live (step 4).',
  );
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 1 of 5')).toBeVisible();

  await page.getByLabel('anxiety').check();
  await expect(page.getByRole('alert')).toHaveText('');
  for (const next of ['Step 2 of 5', 'Step 3 of 5', 'Step 4 of 5']) {
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByText(next)).toBeVisible();
  }
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 4 of 5')).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Where you live' })).toBeFocused();

  // Refused by the server rather than the form: still shown at the question, in the form's own words.
  await page.getByRole('textbox', { name: 'Where you live' }).fill('USOHIOX');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Enter where you live as a code such as "US-OH" or "GB".')).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Where you live' })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('alert')).not.toContainText('errors');
  await expect(page.getByRole('alert')).not.toContainText('residence');

  await page.getByRole('textbox', { name: 'Where you live' }).fill('US-OH');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Step 5 of 5: Review and consent')).toBeVisible();
});

test('a client in care switches therapist in one step, with consent to move their plan', async ({ page, request }) => {
  const region = uniqueRegion();
  const current = await matchableTherapist(request, region, ['anxiety', 'grief']);
  const next = await matchableTherapist(request, region, ['anxiety']);
  const client = await registerViaApi(request, 'client', 'America/New_York');
  const headers = { Authorization: `Bearer ${client.token}` };
  const intake = await request.post('/api/v1/intake', {
    headers,
    data: {
      concerns: ['anxiety', 'grief'],
      prior_therapy: 'never',
      modalities: ['video'],
      session_minutes: 50,
      language: 'en',
      residence: region,
      timezone: 'America/New_York',
      consent_to_match: true,
    },
  });
  expect(intake.status()).toBe(201);
  const auto = await request.post('/api/v1/matches', { headers, data: { mode: 'automatic' } });
  expect(auto.status()).toBe(201);
  expect(((await auto.json()) as { therapist_id: string }).therapist_id).toBe(current.id);

  await page.goto('/login');
  await page.getByLabel('Email').fill(client.email);
  await page.getByLabel('Password', { exact: true }).fill(client.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Matches' }).click();
  await expect(page.getByRole('heading', { name: 'Switch therapist', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Show my best matches' }).click();
  const cards = page.getByRole('article');
  await expect(cards.first()).toBeVisible();
  await expect(page.getByRole('heading', { name: current.displayName })).toHaveCount(0);
  await page.getByRole('button', { name: `Choose ${next.displayName}` }).click();
  const confirm = page.getByRole('region', { name: `Switch to ${next.displayName}?` });
  await expect(confirm.getByRole('heading')).toBeFocused();
  await confirm.getByLabel('Move my therapy plan to my new therapist').check();
  await confirm.getByRole('button', { name: 'Switch therapist' }).click();
  await expect(page.getByText(`You are now working with ${next.displayName}.`)).toBeVisible();
  await expect(page.getByText('Your care with your previous therapist has ended.')).toBeVisible();

  const conversations = await request.get('/api/v1/conversations', { headers });
  const items = ((await conversations.json()) as { items: { therapist_id: string; closed: boolean }[] }).items;
  expect(items.find((c) => c.therapist_id === current.id)?.closed).toBe(true);
  expect(items.find((c) => c.therapist_id === next.id)?.closed).toBe(false);
});

test('a client who just booked is warned before matching ends that care, and chooses whether their plan moves', async ({
  page,
  request,
}) => {
  const region = uniqueRegion();
  const booked = await matchableTherapist(request, region, ['anxiety', 'grief']);
  const other = await matchableTherapist(request, region, ['anxiety']);
  const client = await registerViaApi(request, 'client', 'America/New_York');
  const headers = { Authorization: `Bearer ${client.token}` };
  const intake = await request.post('/api/v1/intake', {
    headers,
    data: {
      concerns: ['anxiety'],
      prior_therapy: 'never',
      modalities: ['video'],
      session_minutes: 50,
      language: 'en',
      residence: region,
      timezone: 'America/New_York',
      consent_to_match: true,
    },
  });
  expect(intake.status()).toBe(201);

  // Not in care when the app loads; booking starts care with the therapist.
  await page.goto('/login');
  await page.getByLabel('Email').fill(client.email);
  await page.getByLabel('Password', { exact: true }).fill(client.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/client$/);
  await page.goto(`/client/therapists/${booked.id}`);
  const picker = page.getByRole('region', { name: 'Choose a time' });
  await expect(picker.getByRole('status')).toContainText('free 50-minute times');
  await pickFirstTimeOfSecondDay(picker);
  await page.getByRole('region', { name: 'Confirm your booking' }).getByRole('button', { name: 'Confirm booking' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Booked: 50-minute video session' })).toBeVisible();
  const list = await request.get('/api/v1/appointments', { headers });
  const [session] = ((await list.json()) as { items: { id: string }[] }).items;

  // Matching now knows there is a therapist to leave, and says what leaving means before doing it.
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Matches' }).click();
  await expect(page.getByRole('heading', { name: 'Switch therapist', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Match me automatically' }).click();
  const confirm = page.getByRole('region', { name: 'Switch to the best match automatically?' });
  await expect(confirm.getByRole('heading')).toBeFocused();
  await expect(confirm).toContainText('Your care with your current therapist ends');
  await expect(confirm).toContainText('Your upcoming session will be cancelled, at no charge');
  await expect(confirm.getByRole('list', { name: 'Sessions that will be cancelled' })).toContainText(booked.displayName);
  await expect(confirm.getByLabel('Move my therapy plan to my new therapist')).not.toBeChecked();
  expect((await getAppointment(request, client, session!.id)).status).toBe('booked');

  await confirm.getByRole('button', { name: 'Keep my therapist' }).click();
  await expect(confirm).toHaveCount(0);
  expect((await getAppointment(request, client, session!.id)).status).toBe('booked');

  await page.getByRole('button', { name: 'Match me automatically' }).click();
  await confirm.getByRole('button', { name: 'Switch therapist' }).click();
  await expect(page.getByText(`You are now working with ${other.displayName}.`)).toBeVisible();
  await expect(page.getByText('Your care with your previous therapist has ended.')).toBeVisible();
  // Cancelled by the practice, never late: a switch is not the client missing the session.
  const cancelled = await getAppointment(request, client, session!.id);
  expect([cancelled.status, cancelled.cancelled_by]).toEqual(['cancelled', 'practice']);
});
