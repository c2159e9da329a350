import { expect, test } from '@playwright/test';
import {
  CLIENT_ZONE,
  THERAPIST_ZONE,
  bookFirstSlot,
  cancelViaApi,
  bookableTherapist,
  getAppointment,
  listAppointmentsViaApi,
  localDate,
  logIn,
  openTherapistFromDirectory,
  pickFirstTimeOfSecondDay,
  publishPolicyViaApi,
  registerViaApi,
} from './scheduling';
import { expectSignedIn, newUser, registerThroughForm } from './users';

test('a therapist registers, sets a profile offering 20 and 50 minutes by video and audio, and opens every day', async ({
  page,
}) => {
  const therapist = newUser('therapist');
  await registerThroughForm(page, therapist, THERAPIST_ZONE);
  await expectSignedIn(page, therapist);

  const areaNav = page.getByRole('navigation', { name: 'Therapist area' });
  await areaNav.getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Your profile' })).toBeVisible();
  await page.getByLabel('Bio').fill('Short sessions for busy people.');
  await page.getByLabel('Licences').fill('US-NY, us-nj');
  await page.getByLabel('Specialties').fill('anxiety, grief');
  await page.getByLabel('Languages').fill('en, es');
  const ways = page.getByRole('group', { name: 'Ways to meet' });
  await ways.getByRole('checkbox', { name: 'Video' }).check();
  await ways.getByRole('checkbox', { name: 'App audio' }).check();
  const lengths = page.getByRole('group', { name: 'Session lengths' });
  for (const minutes of [10, 15, 25, 30, 35, 40, 45, 55, 60]) {
    await lengths.getByRole('checkbox', { name: `${minutes} minutes`, exact: true }).uncheck();
  }
  await lengths.getByRole('checkbox', { name: '20 minutes', exact: true }).check();
  await lengths.getByRole('checkbox', { name: '50 minutes', exact: true }).check();
  await page.getByLabel('Currency').fill('USD');
  await page.getByLabel('Rate for 20 minutes').fill('60');
  await page.getByLabel('Rate for 50 minutes').fill('120');
  await expect(page.getByLabel('Time zone')).toHaveValue(THERAPIST_ZONE);
  await page.getByRole('checkbox', { name: 'Accepting new clients' }).check();
  await page.getByLabel('Caseload capacity').fill('20');
  await page.getByLabel('Cancellation window (hours)').fill('12');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Profile saved.' })).toBeVisible();

  // What was saved comes back after a reload.
  await page.reload();
  await expect(page.getByLabel('Licences')).toHaveValue('US-NY, US-NJ');
  await expect(page.getByLabel('Rate for 20 minutes')).toHaveValue('60.00');
  await expect(page.getByLabel('Rate for 50 minutes')).toHaveValue('120.00');
  await expect(page.getByRole('group', { name: 'Ways to meet' }).getByRole('checkbox', { name: 'App audio' })).toBeChecked();
  await expect(page.getByRole('group', { name: 'Ways to meet' }).getByRole('checkbox', { name: 'Phone' })).not.toBeChecked();
  await expect(page.getByLabel('Cancellation window (hours)')).toHaveValue('12');

  await areaNav.getByRole('link', { name: 'Office hours' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Office hours' })).toBeVisible();
  const monday = page.getByRole('group', { name: 'Monday' });
  await monday.getByRole('button', { name: 'Add hours on Monday' }).click();
  // Keyboard users land in the new range.
  await expect(monday.getByLabel('From')).toBeFocused();
  await monday.getByLabel('From').fill('00:00');
  await monday.getByLabel('To').fill('24:00');
  await page.getByRole('button', { name: 'Copy Monday to every day' }).click();
  await page.getByLabel('Minimum notice (minutes)').fill('0');
  // A dated exception: a day off long after anything this test books.
  await page.getByRole('button', { name: 'Add an exception' }).click();
  await expect(page.getByLabel('Date', { exact: true })).toBeFocused();
  await page.getByLabel('Date', { exact: true }).fill('2030-12-24');
  await expect(page.getByRole('radio', { name: 'Day off' })).toBeChecked();
  await page.getByRole('button', { name: 'Save office hours' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Office hours saved.' })).toBeVisible();

  await page.reload();
  for (const day of ['Monday', 'Wednesday', 'Sunday']) {
    const group = page.getByRole('group', { name: day });
    await expect(group.getByLabel('From')).toHaveValue('00:00');
    await expect(group.getByLabel('To')).toHaveValue('24:00');
  }
  await expect(page.getByLabel('Minimum notice (minutes)')).toHaveValue('0');
  await expect(page.getByRole('group', { name: /^Exception on Tuesday, December 24, 2030/ })).toBeVisible();
});

test('a client finds the therapist, books a 20-minute video and a 50-minute audio session, and sees both', async ({
  page,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  const client = newUser('client');
  await registerThroughForm(page, client, CLIENT_ZONE);
  await expectSignedIn(page, client);

  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Find a therapist' }).click();
  await openTherapistFromDirectory(page, therapist.displayName);
  await expect(page.getByRole('heading', { level: 1, name: therapist.displayName })).toBeVisible();

  // Only what the therapist offers can be chosen.
  const lengths = page.getByRole('group', { name: 'Session length' });
  await expect(lengths.getByRole('radio')).toHaveCount(2);
  const ways = page.getByRole('group', { name: 'How to meet', exact: true });
  await expect(ways.getByRole('radio')).toHaveCount(2);

  const picker = page.getByRole('region', { name: 'Choose a time' });
  // Both zones are named, and each time shows the therapist's clock too.
  await expect(picker).toContainText(CLIENT_ZONE);
  await expect(picker).toContainText(THERAPIST_ZONE);

  const bookings = [
    { minutes: 20, way: 'Video', summary: /Booked: 20-minute video session/ },
    { minutes: 50, way: 'App audio', summary: /Booked: 50-minute app audio session/ },
  ];
  for (const { minutes, way, summary } of bookings) {
    await lengths.getByRole('radio', { name: new RegExp(`^${minutes} minutes`) }).check();
    await ways.getByRole('radio', { name: way }).check();
    await expect(picker.getByRole('status')).toContainText(`free ${minutes}-minute times`);
    await expect(picker.getByRole('button', { name: /in New York/ }).first()).toBeVisible();
    await pickFirstTimeOfSecondDay(picker);
    const confirm = page.getByRole('region', { name: 'Confirm your booking' });
    await expect(confirm).toContainText(`${minutes} minutes`);
    await expect(confirm).toContainText(way);
    await expect(confirm.getByRole('heading', { name: 'Confirm your booking' })).toBeFocused();
    await confirm.getByRole('button', { name: 'Confirm booking' }).click();
    await expect(page.getByRole('status').filter({ hasText: summary })).toBeVisible();
  }

  await page.getByRole('link', { name: 'See my appointments' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'My appointments' })).toBeVisible();
  const upcoming = page.getByRole('list', { name: 'Upcoming sessions' }).getByRole('listitem');
  await expect(upcoming).toHaveCount(2);
  const short = upcoming.filter({ hasText: '20 minutes · Video' });
  const long = upcoming.filter({ hasText: '50 minutes · App audio' });
  await expect(short).toContainText(`with ${therapist.displayName}`);
  await expect(short).toContainText('Booked');
  await expect(long).toContainText(`with ${therapist.displayName}`);
  await expect(long).toContainText('Booked');
});

test('the therapist sees both booked sessions on the week calendar', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const video = await bookFirstSlot(request, client, therapist, 20, 'video');
  const audio = await bookFirstSlot(request, client, therapist, 50, 'audio');

  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Calendar' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Calendar' })).toBeVisible();

  for (const [appointment, text] of [
    [video, /20 min · Video/],
    [audio, /50 min · App audio/],
  ] as const) {
    // The sessions may fall in next week (or straddle a Sunday midnight): go to each one's week.
    await page.getByLabel('Go to date').fill(localDate(appointment.start, THERAPIST_ZONE));
    await page.getByRole('button', { name: 'Show week' }).click();
    const week = page.getByRole('group', { name: /^Week of/ });
    const session = week.getByRole('link', { name: text });
    await expect(session).toBeVisible();
    await expect(session).toContainText(client.displayName);
    await expect(session).toContainText('Booked');
  }

  // The week moves with the buttons, and the session opens with its details.
  await page.getByRole('link', { name: 'Next week' }).click();
  await expect(page.getByRole('group', { name: /^Week of/ }).getByRole('link', { name: /50 min · App audio/ })).toHaveCount(0);
  await page.getByRole('link', { name: 'Previous week' }).click();
  await page.getByRole('group', { name: /^Week of/ }).getByRole('link', { name: /50 min · App audio/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Session details' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: 'App audio' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Cancel session' })).toBeVisible();

  // Progress is recorded with buttons; a no-show cannot be marked before the session starts. Check-in and start
  // are not buttons here: the live session records them (the client checks in, both join the call).
  await expect(page.getByRole('button', { name: 'Mark no-show' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Mark checked in' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Mark in progress' })).toHaveCount(0);
  expect((await getAppointment(request, therapist, audio.id)).status).toBe('booked');
});

test('the client cancels one session and it shows as cancelled', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const video = await bookFirstSlot(request, client, therapist, 20, 'video');
  await bookFirstSlot(request, client, therapist, 50, 'audio');

  await logIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'My appointments' }).click();
  const upcoming = page.getByRole('list', { name: 'Upcoming sessions' }).getByRole('listitem');
  await expect(upcoming).toHaveCount(2);
  await upcoming.filter({ hasText: '20 minutes · Video' }).getByRole('link').click();

  await expect(page.getByRole('heading', { level: 1, name: 'Session details' })).toBeVisible();
  await page.getByLabel('Reason (optional)').fill('Something came up at work.');
  await page.getByRole('button', { name: 'Cancel session' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Session cancelled.' })).toBeVisible();
  // The cancel form is gone: the keyboard goes on from the message, not from the top of the page.
  await expect(page.getByText('Session cancelled.', { exact: true })).toBeFocused();
  await expect(page.getByRole('definition').filter({ hasText: 'Cancelled' }).first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Cancel session' })).toHaveCount(0);
  expect((await getAppointment(request, client, video.id)).status).toBe('cancelled');

  await page.getByRole('link', { name: 'Back to my appointments' }).click();
  await expect(upcoming.filter({ hasText: '20 minutes · Video' })).toContainText('Cancelled');
  await expect(upcoming.filter({ hasText: '50 minutes · App audio' })).toContainText('Booked');
});

test('the client reschedules a session to another free time', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const video = await bookFirstSlot(request, client, therapist, 20, 'video');

  await logIn(page, client);
  await page.goto(`/client/appointments/${video.id}`);
  await page.getByRole('button', { name: 'Find a new time' }).click();
  const picker = page.getByRole('region', { name: 'Choose a new time' });
  await expect(picker.getByRole('status')).toContainText('free 20-minute times');
  // A time on the third listed day: at least a day away, well clear of the current session.
  const day = picker.locator('details').nth(2);
  await day.locator('summary').click();
  await day.getByRole('button').first().click();
  await page.getByRole('button', { name: 'Move session' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Session moved to' })).toBeVisible();

  const moved = await getAppointment(request, client, video.id);
  expect(moved.status).toBe('booked');
  expect(moved.start).not.toBe(video.start);
  expect(moved.duration_minutes).toBe(20);
});

test('a stale profile save tells the therapist to reload, and reloading shows the other change', async ({
  page,
  request,
}) => {
  const therapist = await registerViaApi(request, 'therapist', THERAPIST_ZONE);
  await logIn(page, therapist);
  await page.goto('/therapist/profile');
  await expect(page.getByLabel('Bio')).toBeVisible();

  // Meanwhile, another tab saves the profile.
  const auth = { Authorization: `Bearer ${therapist.token}` };
  const current = await request.get('/api/v1/therapists/me/profile', { headers: auth });
  const elsewhere = await request.put('/api/v1/therapists/me/profile', {
    headers: { ...auth, 'If-Match': current.headers()['etag']! },
    data: { display_name: therapist.displayName, bio: 'Saved in another tab.', modalities: ['video'], session_lengths: [50], timezone: THERAPIST_ZONE },
  });
  expect(elsewhere.status()).toBe(200);

  await page.getByLabel('Bio').fill('Saved in this tab.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'not saved' });
  await expect(alert).toContainText('Reload the profile');
  await alert.getByRole('button', { name: 'Reload profile' }).click();
  await expect(page.getByLabel('Bio')).toHaveValue('Saved in another tab.');
  await expect(page.getByRole('alert').filter({ hasText: 'not saved' })).toHaveCount(0);

  // After reloading, a save goes through.
  await page.getByLabel('Bio').fill('Saved in this tab after all.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Profile saved.' })).toBeVisible();
});

test('a client adds a phone number for SMS reminders in settings', async ({ page, request }) => {
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, client);
  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Settings' }).click();

  await page.getByLabel('Mobile phone for SMS reminders and phone sessions').fill('12345');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'international form' })).toBeVisible();
  // The message also sits under the field it is about.
  await expect(page.getByLabel('Mobile phone for SMS reminders and phone sessions')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Mobile phone for SMS reminders and phone sessions').fill('+1 415 555 0123');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Mobile phone for SMS reminders and phone sessions')).toHaveValue('+14155550123');
});

test('a client books a weekly series, then cancels one session and every later one', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, client);
  await page.goto(`/client/therapists/${therapist.id}`);

  await page.getByRole('group', { name: 'Session length' }).getByRole('radio', { name: /^50 minutes/ }).check();
  await page.getByRole('group', { name: 'Repeat' }).getByRole('radio', { name: 'Every week' }).check();
  await page.getByLabel('Number of sessions').fill('4');
  const picker = page.getByRole('region', { name: 'Choose a time' });
  await expect(picker.getByRole('status')).toContainText('free 50-minute times');
  await pickFirstTimeOfSecondDay(picker);
  const confirm = page.getByRole('region', { name: 'Confirm your booking' });
  await expect(confirm).toContainText('Every week, 4 sessions');
  await confirm.getByRole('button', { name: 'Book 4 sessions' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Booked 4 of 4 sessions, every week.' })).toBeVisible();

  await page.getByRole('link', { name: 'See my appointments' }).click();
  const upcoming = page.getByRole('list', { name: 'Upcoming sessions' }).getByRole('listitem');
  await expect(upcoming).toHaveCount(4);
  await upcoming.nth(1).getByRole('link').click();
  await page.getByRole('group', { name: 'Cancel which sessions of the series?' }).getByRole('radio', { name: 'This and all later sessions' }).check();
  await page.getByRole('button', { name: 'Cancel these sessions' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'all later sessions of the series are cancelled' })).toBeVisible();

  await page.getByRole('link', { name: 'Back to my appointments' }).click();
  await expect(upcoming.filter({ hasText: 'Booked' })).toHaveCount(1);
  await expect(upcoming.filter({ hasText: 'Cancelled' })).toHaveCount(3);
  await expect(upcoming.first()).toContainText('Booked');
});

test('a waitlisted client is offered a cancelled time and claims it', async ({ page, browser, request }) => {
  const therapist = await bookableTherapist(request);
  const first = await registerViaApi(request, 'client', CLIENT_ZONE);
  // Far enough ahead that the freed time still starts after the offer's claim window.
  const taken = await bookFirstSlot(request, first, therapist, 20, 'video', 120);

  const waiting = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, waiting);
  await page.goto(`/client/therapists/${therapist.id}`);
  const join = page.getByRole('form', { name: 'Waitlist' });
  const lengths = join.getByRole('group', { name: 'Lengths you would take' });
  await expect(lengths.getByRole('checkbox', { name: '20 minutes' })).toBeChecked();
  await lengths.getByRole('checkbox', { name: '50 minutes' }).check();
  await join.getByRole('button', { name: 'Join the waitlist' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'You are on the waitlist.' })).toBeVisible();
  await join.getByRole('button', { name: 'Join the waitlist' }).click();
  await expect(join.getByRole('alert')).toContainText('already on this waitlist');

  // The therapist sees who is waiting.
  const therapistContext = await browser.newContext();
  const therapistPage = await therapistContext.newPage();
  await logIn(therapistPage, therapist);
  await therapistPage.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Waitlist' }).click();
  const row = therapistPage.getByRole('row', { name: new RegExp(waiting.displayName) });
  await expect(row).toContainText('20, 50 min');
  await therapistContext.close();

  await cancelViaApi(request, first, taken.id);

  await page.getByRole('navigation', { name: 'Client area' }).getByRole('link', { name: 'Waitlist' }).click();
  const offers = page.getByRole('list', { name: 'Offers' }).getByRole('listitem');
  await expect(offers).toHaveCount(1);
  await expect(offers.first()).toContainText('20 minutes · Video');
  await offers.first().getByRole('button', { name: 'Claim this time' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Booked:' })).toBeVisible();
  await expect(page.getByText('No open offers right now.')).toBeVisible();

  await page.getByRole('link', { name: 'See my appointments' }).click();
  const upcoming = page.getByRole('list', { name: 'Upcoming sessions' }).getByRole('listitem');
  await expect(upcoming).toHaveCount(1);
  await expect(upcoming.first()).toContainText('20 minutes · Video');
  await expect(upcoming.first()).toContainText('Booked');
});

test('a client creates a private calendar feed address and turns it off', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await bookFirstSlot(request, client, therapist, 50, 'audio');
  await logIn(page, client);
  await page.goto('/client/settings');

  await page.getByRole('button', { name: 'Create a calendar address' }).click();
  const address = page.getByLabel('Your calendar address');
  await expect(address).toHaveValue(/\/api\/v1\/calendar\/[A-Za-z0-9_-]+\.ics$/);
  // The server builds the address from its public URL; ask this server for the same path.
  const path = new URL(await address.inputValue()).pathname;
  const feed = await request.get(path);
  expect(feed.status()).toBe(200);
  expect(feed.headers()['content-type']).toContain('text/calendar');
  const ics = await feed.text();
  expect(ics).toContain('BEGIN:VEVENT');
  expect(ics).not.toContain(client.displayName);

  await page.getByRole('button', { name: 'Turn off the calendar feed' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Calendar feed turned off.' })).toBeVisible();
  expect((await request.get(path)).status()).toBe(404);
});

test('booking works with the keyboard alone', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, client);
  await page.goto(`/client/therapists/${therapist.id}`);

  // Arrow keys move between the offered lengths, as in any radio group.
  const twenty = page.getByRole('radio', { name: /^20 minutes/ });
  await twenty.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByRole('radio', { name: /^50 minutes/ })).toBeChecked();
  await expect(page.getByRole('region', { name: 'Choose a time' }).getByRole('status')).toContainText('free 50-minute times');

  const secondDay = page.getByRole('region', { name: 'Choose a time' }).locator('details').nth(1);
  await secondDay.locator('summary').focus();
  await page.keyboard.press('Enter');
  await expect(secondDay).toHaveAttribute('open', '');
  await page.keyboard.press('Tab');
  await expect(secondDay.getByRole('button').first()).toBeFocused();
  await page.keyboard.press('Enter');
  // Choosing a time moves focus to the confirmation, whose first control is the booking button.
  await expect(page.getByRole('heading', { name: 'Confirm your booking' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Confirm booking' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Booked: 50-minute video session' })).toBeVisible();
  // The confirm step is gone: the keyboard goes on from the result, whose link is the next stop.
  await expect(page.locator(':focus')).toContainText('Booked: 50-minute video session');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'See my appointments' })).toBeFocused();
});

test('moving a series session "and all later ones" moves the rest of the series', async ({ page, request }) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const first = await bookFirstSlot(request, client, therapist, 50, 'video');
  const series = await request.post('/api/v1/appointment-series', {
    headers: { Authorization: `Bearer ${client.token}` },
    data: {
      therapist_id: therapist.id,
      // A week after the single session, so the two never meet.
      start: new Date(Date.parse(first.start) + 7 * 86_400_000).toISOString(),
      duration_minutes: 50,
      modality: 'video',
      frequency: 'weekly',
      count: 3,
    },
  });
  expect(series.status()).toBe(201);
  const { occurrences } = (await series.json()) as { occurrences: { status: string; appointment: { id: string } }[] };
  expect(occurrences.map((o) => o.status)).toEqual(['booked', 'booked', 'booked']);

  await logIn(page, client);
  await page.goto(`/client/appointments/${occurrences[1]!.appointment.id}`);
  await expect(page.getByRole('definition').filter({ hasText: 'Part of a recurring series' })).toBeVisible();
  await page.getByRole('button', { name: 'Find a new time' }).click();
  await page.getByRole('group', { name: 'Move which sessions of the series?' }).getByRole('radio', { name: 'This and all later sessions' }).check();
  const picker = page.getByRole('region', { name: 'Choose a new time' });
  await expect(picker.getByRole('status')).toContainText('free 50-minute times');
  const day = picker.locator('details').nth(2);
  await day.locator('summary').click();
  await day.getByRole('button').first().click();
  await page.getByRole('button', { name: 'Move session' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'the series now continues from' })).toBeVisible();
  await expect(page).not.toHaveURL(new RegExp(occurrences[1]!.appointment.id));

  // The moved occurrences were replaced: the old ones are cancelled, the first occurrence is untouched.
  expect((await getAppointment(request, client, occurrences[0]!.appointment.id)).status).toBe('booked');
  expect((await getAppointment(request, client, occurrences[1]!.appointment.id)).status).toBe('cancelled');
  expect((await getAppointment(request, client, occurrences[2]!.appointment.id)).status).toBe('cancelled');
});

test('booking shows the cancellation policy the client accepts, and asks again when it changed meanwhile', async ({
  page,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  await publishPolicyViaApi(request, therapist, {
    window_hours: 24,
    late_cancellation: { flat_amount_minor: 5000 },
    no_show: { percent_bp: 10000 },
  });
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, client);
  await page.goto(`/client/therapists/${therapist.id}`);
  await page.getByRole('group', { name: 'Session length' }).getByRole('radio', { name: /^50 minutes/ }).check();
  const picker = page.getByRole('region', { name: 'Choose a time' });
  await expect(picker.getByRole('status')).toContainText('free 50-minute times');
  await pickFirstTimeOfSecondDay(picker);

  const confirm = page.getByRole('region', { name: 'Confirm your booking' });
  const policy = confirm.getByRole('region', { name: 'Cancellation policy' });
  await expect(policy).toContainText('Cancelling at least 24 hours before the session is free.');
  await expect(policy).toContainText('A later cancellation costs $50.00.');
  await expect(policy).toContainText('Missing the session costs 100% of the session price ($120.00).');
  await expect(policy).toContainText('By booking you accept this policy.');

  // The therapist publishes a stricter policy while the client reads the old one: nothing is booked under it.
  await publishPolicyViaApi(request, therapist, { window_hours: 48, late_cancellation: { flat_amount_minor: 9000 } });
  await confirm.getByRole('button', { name: 'Confirm booking' }).click();
  await expect(confirm.getByRole('alert')).toContainText('The cancellation policy has changed');
  await expect(policy).toContainText('changed their cancellation policy while you were booking');
  await expect(policy).toContainText('Cancelling at least 48 hours before the session is free.');
  await expect(policy).toContainText('A later cancellation costs $90.00.');
  await expect(policy).toContainText('Missing the session costs nothing.');
  expect(await listAppointmentsViaApi(request, client)).toHaveLength(0);

  await confirm.getByRole('button', { name: 'Confirm booking' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Booked: 50-minute video session' })).toBeVisible();
  const [booked] = await listAppointmentsViaApi(request, client);
  expect(booked!.policy_version).toBe(2);
});

test('a client cancelling inside the window is told the fee and confirms it before anything is charged, also when the window closed meanwhile', async ({
  page,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  await publishPolicyViaApi(request, therapist, { window_hours: 48, late_cancellation: { flat_amount_minor: 9000 } });
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  // The first free time, well inside the 48-hour window.
  const session = await bookFirstSlot(request, client, therapist, 50, 'video');
  await logIn(page, client);
  await page.goto(`/client/appointments/${session.id}`);

  const cancel = page.getByRole('region', { name: 'Cancel', exact: true });
  await expect(cancel).toContainText('Cancelling now is a late cancellation: it costs $90.00.');
  await page.getByRole('button', { name: 'Cancel session' }).click();
  await expect(cancel.getByRole('heading', { name: 'Cancel this late?' })).toBeFocused();
  await expect(cancel).toContainText('Under the cancellation policy you accepted when booking, it costs $90.00');
  expect((await getAppointment(request, client, session.id)).status).toBe('booked');

  // Changing one's mind costs nothing.
  await cancel.getByRole('button', { name: 'Keep the session' }).click();
  await expect(cancel.getByRole('button', { name: 'Cancel session' })).toBeVisible();
  expect((await getAppointment(request, client, session.id)).status).toBe('booked');

  // The terms the page reads say "not late yet" (read just before the window closed): the cancel goes out without
  // an accepted fee, the server refuses it (409 late_fee_not_accepted) and the page asks again with its fee.
  const terms = `**/api/v1/appointments/${session.id}/cancellation-terms`;
  await page.route(terms, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), late_now: false } });
  });
  const refused = page.waitForResponse((r) => r.url().endsWith(`/appointments/${session.id}/cancel`));
  await cancel.getByRole('button', { name: 'Cancel session' }).click();
  expect((await refused).status()).toBe(409);
  await expect(cancel.getByRole('heading', { name: 'Cancel this late?' })).toBeFocused();
  await expect(cancel).toContainText('Nothing was cancelled yet: the cancellation window has closed since you looked.');
  await expect(cancel).toContainText('it costs $90.00');
  await expect(cancel.getByRole('alert')).toHaveText('');
  expect((await getAppointment(request, client, session.id)).status).toBe('booked');
  await page.unroute(terms);

  // Confirming sends the fee shown as accepted: the server late-cancels only with exactly that fee accepted.
  const accepted = page.waitForResponse((r) => r.url().endsWith(`/appointments/${session.id}/cancel`));
  await cancel.getByRole('button', { name: 'Cancel and pay $90.00' }).click();
  expect((await accepted).status()).toBe(200);
  await expect(page.getByRole('status').filter({ hasText: 'recorded as a late cancellation' })).toBeVisible();
  expect((await getAppointment(request, client, session.id)).status).toBe('late_cancelled');
  const invoices = await request.get('/api/v1/invoices', { headers: { Authorization: `Bearer ${client.token}` } });
  const items = ((await invoices.json()) as { items: { kind: string; amount: { amount_minor: number } }[] }).items;
  expect(items.map((i) => [i.kind, i.amount.amount_minor])).toEqual([['late_cancellation', 9000]]);
});

test('a series booking whose answer was lost is retried with the same key and reports the booked series', async ({
  page,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  await logIn(page, client);
  await page.goto(`/client/therapists/${therapist.id}`);
  await page.getByRole('group', { name: 'Repeat' }).getByRole('radio', { name: 'Every week' }).check();
  await page.getByLabel('Number of sessions').fill('3');
  const picker = page.getByRole('region', { name: 'Choose a time' });
  await expect(picker.getByRole('status')).toContainText('free 20-minute times');
  await pickFirstTimeOfSecondDay(picker);

  // The server books the series, but its answer never reaches the browser.
  const keys: string[] = [];
  await page.route('**/api/v1/appointment-series', async (route) => {
    keys.push(route.request().headers()['idempotency-key'] ?? '');
    if (keys.length === 1) {
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.fallback();
    }
  });
  const confirm = page.getByRole('region', { name: 'Confirm your booking' });
  await confirm.getByRole('button', { name: 'Book 3 sessions' }).click();
  await expect(confirm.getByRole('alert')).toContainText('Hearth could not be reached');
  await confirm.getByRole('button', { name: 'Book 3 sessions' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Booked 3 of 3 sessions, every week.' })).toBeVisible();
  expect(keys).toHaveLength(2);
  expect(keys[0]).not.toBe('');
  expect(keys[1]).toBe(keys[0]);
  expect(await listAppointmentsViaApi(request, client)).toHaveLength(3);
});

test('a therapist’s own views follow the time zone in their settings, not their practice’s', async ({ page, request }) => {
  const therapist = await bookableTherapist(request); // profile and office hours in THERAPIST_ZONE
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const session = await bookFirstSlot(request, client, therapist, 20, 'video');
  const travelling = 'Asia/Tokyo';

  await logIn(page, therapist);
  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByText('in your calendar too. Your office hours keep their own zone.')).toBeVisible();
  await page.getByLabel('Time zone').fill(travelling);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Settings saved.' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Therapist area' }).getByRole('link', { name: 'Calendar' }).click();
  await expect(page.getByText(`Times in your time zone (${travelling}).`)).toBeVisible();
  // The session sits on its Tokyo date, at its Tokyo time.
  await page.getByLabel('Go to date').fill(localDate(session.start, travelling));
  await page.getByRole('button', { name: 'Show week' }).click();
  const tokyo = (instant: string) =>
    new Intl.DateTimeFormat('en-US', { timeZone: travelling, hour: 'numeric', minute: '2-digit' }).format(new Date(instant));
  await expect(page.getByRole('group', { name: /^Week of/ }).getByText(`${tokyo(session.start)}–${tokyo(session.end)}`)).toBeVisible();
});
