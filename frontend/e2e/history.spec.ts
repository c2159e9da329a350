import { expect, test, type Page } from '@playwright/test';
import { CLIENT_ZONE, bookableTherapist, logIn, registerViaApi, type Appointment } from './scheduling';

/**
 * More sessions than any "fetch everything" cap (10 pages of 200): daily 50-minute sessions, the newest yesterday.
 * Booking 2,100 real sessions would take minutes, so the list route answers from this history instead, honouring
 * the filters, order and cursor the real one has (tests/e2e/scheduling/test_booking.py covers those on the server).
 */
function longHistory(therapistId: string, clientId: string, count = 2_100): Appointment[] {
  const yesterday = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() - 1, 15);
  return Array.from({ length: count }, (_, i) => {
    const start = new Date(yesterday - (count - 1 - i) * 86_400_000);
    return {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      therapist_id: therapistId,
      client_id: clientId,
      practice_id: '00000000-0000-4000-8000-000000000000',
      start: start.toISOString(),
      end: new Date(start.getTime() + 50 * 60_000).toISOString(),
      duration_minutes: 50,
      modality: 'video',
      status: 'completed',
      series_id: null,
      cancelled_by: null,
      cancelled_at: null,
      cancel_reason: null,
      late_cancellation: false,
      policy_version: null,
      created_at: start.toISOString(),
    };
  });
}

async function serveHistory(page: Page, history: Appointment[]): Promise<void> {
  await page.route(/\/api\/v1\/appointments\?/, async (route) => {
    const q = new URL(route.request().url()).searchParams;
    const at = (iso: string | null) => (iso ? Date.parse(iso) : null);
    const [start, end] = [at(q.get('start')), at(q.get('end'))];
    let items = history.filter(
      (a) =>
        (!q.get('client_id') || a.client_id === q.get('client_id')) &&
        (!q.get('therapist_id') || a.therapist_id === q.get('therapist_id')) &&
        (start === null || Date.parse(a.start) >= start) &&
        (end === null || Date.parse(a.start) < end),
    );
    if (q.get('order') === 'newest_first') items = [...items].reverse();
    const offset = Number(q.get('cursor') ?? 0);
    const limit = Number(q.get('limit') ?? 50);
    const more = offset + limit < items.length;
    await route.fulfill({ json: { items: items.slice(offset, offset + limit), next_cursor: more ? String(offset + limit) : null } });
  });
}

test('with more sessions than one listing holds, the chart and My appointments still start at the newest', async ({
  page,
  browser,
  request,
}) => {
  const therapist = await bookableTherapist(request);
  const client = await registerViaApi(request, 'client', CLIENT_ZONE);
  const history = longHistory(therapist.id, client.id);
  const newest = history.at(-1)!;
  await serveHistory(page, history);

  await logIn(page, therapist);
  await page.goto(`/therapist/clients/${client.id}?tab=sessions`);
  const sessions = page.getByRole('list', { name: 'Sessions' });
  await expect(sessions.getByRole('link').first()).toHaveAttribute('href', `/therapist/appointments/${newest.id}`);
  await expect(page.getByRole('button', { name: 'Show earlier sessions' })).toBeVisible();

  const clientPage = await (await browser.newContext()).newPage();
  await serveHistory(clientPage, history);
  await logIn(clientPage, client);
  await clientPage.goto('/client/appointments');
  const past = clientPage.getByRole('list', { name: 'Past sessions' });
  await expect(past.getByRole('link').first()).toHaveAttribute('href', `/client/appointments/${newest.id}`);
});
