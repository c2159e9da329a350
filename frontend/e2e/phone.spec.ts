// Phone sessions: the therapist's "Call client" button on a phone session. The test server uses the console
// telephony backend, which plays the provider's part (therapist answers, then the client) a few seconds apart.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { bookableTherapist, bookFirstSlot, CLIENT_ZONE, logIn, registerViaApi, type ApiUser } from './scheduling';

async function setPhone(request: APIRequestContext, user: ApiUser, phone: string): Promise<void> {
  const response = await request.put('/api/v1/me/phone', {
    headers: { Authorization: `Bearer ${user.token}` },
    data: { phone },
  });
  expect(response.status()).toBe(200);
}

test('the therapist calls the client and hangs up', async ({ page, request }) => {
  const therapist = await bookableTherapist(request, ['video', 'audio', 'phone']);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  // A session starting within minutes, so the call window (15 minutes before the start) is open. On the default
  // 15-minute grid the first slot a minute from now can start 16 minutes away (a repeated run hit it): search a 5-minute grid.
  const appointment = await bookFirstSlot(request, client, therapist, 50, 'phone', 1, 5);
  await setPhone(request, client, '+44 20 7946 0000');

  await logIn(page, therapist);
  await page.goto(`/therapist/appointments/${appointment.id}`);
  const section = page.getByRole('region', { name: 'Phone call' });
  await expect(section.getByRole('status')).toHaveText('No call yet.');

  // Without the therapist's own number the server refuses, and the control says where to add it.
  await section.getByRole('button', { name: 'Call client' }).click();
  await expect(section.getByRole('alert')).toContainText('Add your phone number');
  await expect(section.getByRole('link', { name: 'Add your phone number in Settings' })).toBeVisible();

  await setPhone(request, therapist, '+1 415 555 0101');
  await section.getByRole('button', { name: 'Call client' }).click();
  await expect(section.getByRole('status')).toHaveText(/Placing the call…|Ringing…/);
  await expect(section.getByRole('status')).toHaveText('Connected', { timeout: 20_000 });
  // Neither number is shown to the therapist's browser.
  await expect(page.getByText('7946')).toHaveCount(0);

  await section.getByRole('button', { name: 'Hang up' }).click();
  await expect(section.getByRole('status')).toContainText('Call ended');
  await expect(section.getByRole('button', { name: 'Call client again' })).toBeVisible();
});
