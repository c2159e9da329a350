import { expect, test } from '@playwright/test';
import { CLIENT_ZONE, THERAPIST_ZONE, bookFirstSlot, bookableTherapist, localDate, logIn, registerViaApi } from './scheduling';

test('a therapist with two clients sees their names in messages, the week calendar and a session', async ({
  page,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  const ann = await registerViaApi(request, 'client', CLIENT_ZONE);
  const ben = await registerViaApi(request, 'client', CLIENT_ZONE);
  const sessions = [
    { client: ann, appointment: await bookFirstSlot(request, ann, therapist, 50, 'video') },
    { client: ben, appointment: await bookFirstSlot(request, ben, therapist, 50, 'video') },
  ];
  const lookups: URL[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/v1/clients/names') lookups.push(url);
  });

  await logIn(page, therapist);
  const nav = page.getByRole('navigation', { name: 'Therapist area' });
  await nav.getByRole('link', { name: 'Messages' }).click();
  const conversations = page.getByRole('list', { name: 'Conversations' });
  for (const { client } of sessions) {
    await expect(conversations.getByRole('link', { name: new RegExp(`^${client.displayName}`) })).toBeVisible();
  }
  await expect(conversations).not.toContainText(/Client [0-9a-f]{6}/);
  // One lookup for the whole list, not one per conversation.
  expect(lookups.some((url) => [ann.id, ben.id].every((id) => url.searchParams.getAll('id').includes(id)))).toBe(true);

  await nav.getByRole('link', { name: 'Calendar' }).click();
  for (const { client, appointment } of sessions) {
    // The sessions may fall in different weeks (a Sunday midnight between them): go to each one's week.
    await page.getByLabel('Go to date').fill(localDate(appointment.start, THERAPIST_ZONE));
    await page.getByRole('button', { name: 'Show week' }).click();
    const week = page.getByRole('group', { name: /^Week of/ });
    await expect(week.getByRole('link', { name: new RegExp(client.displayName) })).toBeVisible();
  }

  for (const { client, appointment } of sessions) {
    await page.goto(`/therapist/appointments/${appointment.id}`);
    await expect(page.getByRole('definition').filter({ hasText: client.displayName })).toBeVisible();
  }
});
