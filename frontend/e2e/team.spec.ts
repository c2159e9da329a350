import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { uniqueRegion } from './regions';

/**
 * A group practice is staffed through invitations: the admin the operator invited joins from their email, invites
 * a therapist from the Team page (and withdraws another invitation), the therapist joins from theirs, the admin
 * assigns the practice's waiting client to them, and when the therapist leaves the admin removes them from the
 * Team page (the last admin cannot be), their client waiting in the queue again. The therapist comes back: the admin
 * reactivates them and they can sign in, but having had a client they cannot be made an admin.
 *
 * The operator's step (`hearth practice create-group`) and the email server are in tests/browser/test_team_spa.py,
 * which passes the practice and a read-only mailbox in HEARTH_TEAM_SEED. Run alone, this spec is skipped.
 */
interface Seed {
  practice_id: string;
  practice_name: string;
  admin_email: string;
  mailbox_url: string;
}

const raw = process.env.HEARTH_TEAM_SEED;
const seed: Seed | null = raw ? (JSON.parse(raw) as Seed) : null;

test.describe.configure({ timeout: 90_000 });

function unique(): string {
  return `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The newest invitation link emailed to `email` (the server sends it before answering, so it is there already). */
async function invitationLink(request: APIRequestContext, email: string): Promise<string> {
  const response = await request.get(`${seed!.mailbox_url}/messages?to=${encodeURIComponent(email)}`);
  expect(response.status()).toBe(200);
  const messages = (await response.json()) as { subject: string; text: string }[];
  const links = messages.flatMap((m) => m.text.match(/https?:\/\/\S+\/join\?invitation=[\w-]+/g) ?? []);
  expect(links.length, `an invitation emailed to ${email}`).toBeGreaterThan(0);
  return links.at(-1)!;
}

/** Fills the join form of the invitation page `page` shows. */
async function join(page: Page, name: string, password: string, timezone: string): Promise<void> {
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await expect(page.getByLabel('Time zone')).not.toHaveValue('');
  await page.getByLabel('Time zone').fill(timezone);
  await page.getByRole('button', { name: 'Create my account' }).click();
}

/** A client waiting in the practice's queue, through the public API (the SPA offers no queue choice yet). */
async function queuedClient(request: APIRequestContext, region: string): Promise<string> {
  const name = `Waiting client ${unique()}`;
  const email = `e2e-queued-${unique()}@example.com`;
  const password = `Quiet-harbour-${unique()}`;
  const registered = await request.post('/api/v1/auth/register', {
    data: { email, password, role: 'client', display_name: name, timezone: 'America/New_York' },
  });
  expect(registered.status()).toBe(201);
  const headers = { Authorization: `Bearer ${await accessToken(request, email, password)}` };
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
  const queued = await request.post('/api/v1/matches', {
    headers,
    data: { mode: 'queue', practice_id: seed!.practice_id },
  });
  expect(queued.status()).toBe(201);
  return name;
}

async function accessToken(request: APIRequestContext, email: string, password: string): Promise<string> {
  const token = await request.post('/api/v1/auth/token', { form: { username: email, password } });
  expect(token.status()).toBe(200);
  return ((await token.json()) as { access_token: string }).access_token;
}

/** The joined therapist's profile and hours, licensed in `region` and open around the clock. */
async function publishTherapist(request: APIRequestContext, token: string, name: string, region: string): Promise<void> {
  const headers = { Authorization: `Bearer ${token}` };
  const current = await request.get('/api/v1/therapists/me/profile', { headers });
  expect(current.status()).toBe(200);
  const saved = await request.put('/api/v1/therapists/me/profile', {
    headers: { ...headers, 'If-Match': current.headers()['etag']! },
    data: {
      display_name: name,
      bio: 'Anxiety, in short sessions.',
      licenses: [region],
      specialties: ['anxiety'],
      languages: ['en'],
      modalities: ['video'],
      session_lengths: [50],
      rates: [{ duration_minutes: 50, amount_minor: 12000, currency: 'USD' }],
      timezone: 'America/Chicago',
      accepting_new_clients: true,
      caseload_capacity: 10,
      cancellation_window_hours: 24,
    },
  });
  expect(saved.status()).toBe(200);
  const hours = await request.put('/api/v1/therapists/me/office-hours', {
    headers,
    data: {
      timezone: 'America/Chicago',
      weekly: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })),
      min_notice_minutes: 0,
      horizon_days: 60,
    },
  });
  expect(hours.status()).toBe(200);
}

test('the operator’s admin joins, invites a therapist who joins, and assigns the practice’s waiting client', async ({
  browser,
  request,
}) => {
  test.skip(seed === null, 'seeded by tests/browser/test_team_spa.py');
  const { practice_name: practice, admin_email: adminEmail } = seed!;
  const adminName = `Pat Admin ${unique()}`;
  const therapistName = `Dr. Sam Okafor ${unique()}`;
  const therapistEmail = `e2e-invited-${unique()}@example.com`;
  const withdrawnEmail = `e2e-withdrawn-${unique()}@example.com`;
  const password = `Quiet-harbour-${unique()}`;

  // The admin the operator invited joins from their email and lands in the admin area.
  const admin = await browser.newPage();
  await admin.goto(await invitationLink(request, adminEmail));
  await expect(admin.getByRole('heading', { level: 1, name: `Join ${practice}` })).toBeVisible();
  await expect(admin.getByText(`${practice} invited ${adminEmail} to join Hearth as a practice admin.`)).toBeVisible();
  await join(admin, adminName, password, 'America/New_York');
  await expect(admin).toHaveURL(/\/admin$/);
  await expect(admin.getByRole('banner')).toContainText(`Signed in as ${adminName}`);

  // The Team page: invite a therapist, invite an admin by mistake and withdraw it.
  await admin.getByRole('navigation', { name: 'Practice admin area' }).getByRole('link', { name: 'Team' }).click();
  await expect(admin.getByRole('heading', { level: 1, name: 'Team' })).toBeVisible();
  await expect(admin.getByText('No open invitations.')).toBeVisible();
  await admin.getByLabel('Email').fill(therapistEmail);
  await admin.getByRole('radio', { name: 'Therapist' }).check();
  await admin.getByRole('button', { name: 'Send invitation' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Invitation sent to' })).toHaveText(`Invitation sent to ${therapistEmail}.`);
  const invitations = admin.getByRole('table', { name: 'Open invitations' });
  await expect(invitations.getByRole('row').filter({ hasText: therapistEmail })).toContainText('Therapist');
  await expect(invitations.getByRole('row').filter({ hasText: therapistEmail })).toContainText('Works until');

  await admin.getByLabel('Email').fill(withdrawnEmail);
  await admin.getByRole('radio', { name: 'Practice admin' }).check();
  await admin.getByRole('button', { name: 'Send invitation' }).click();
  await expect(invitations.getByRole('row').filter({ hasText: withdrawnEmail })).toContainText('Practice admin');
  await admin.getByRole('button', { name: `Withdraw the invitation of ${withdrawnEmail}` }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'was withdrawn' })).toContainText(`The invitation of ${withdrawnEmail} was withdrawn`);
  await expect(invitations.getByRole('row').filter({ hasText: withdrawnEmail })).toHaveCount(0);
  const withdrawn = await browser.newPage();
  await withdrawn.goto(await invitationLink(request, withdrawnEmail));
  await expect(withdrawn.getByRole('alert')).toContainText('This invitation was withdrawn');
  await expect(withdrawn.getByRole('button', { name: 'Create my account' })).toHaveCount(0);

  // The therapist joins from their email and lands in the therapist area of the practice.
  const therapist = await browser.newPage();
  await therapist.goto(await invitationLink(request, therapistEmail));
  await expect(therapist.getByText(`${practice} invited ${therapistEmail} to join Hearth as a therapist.`)).toBeVisible();
  await join(therapist, therapistName, password, 'America/Chicago');
  await expect(therapist).toHaveURL(/\/therapist$/);
  await expect(therapist.getByRole('banner')).toContainText(`Signed in as ${therapistName}`);
  const token = await accessToken(request, therapistEmail, password);
  const me = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(((await me.json()) as { practice_id: string }).practice_id).toBe(seed!.practice_id);

  await admin.reload();
  await expect(admin.getByText('No open invitations.')).toBeVisible();

  // What the admin is for: the practice's queue, assigned to the therapist who just joined.
  const region = uniqueRegion();
  await publishTherapist(request, token, therapistName, region);
  const clientName = await queuedClient(request, region);
  await admin.getByRole('navigation', { name: 'Practice admin area' }).getByRole('link', { name: 'Matching queue' }).click();
  await expect(admin.getByRole('heading', { level: 1, name: 'Matching queue' })).toBeVisible();
  await expect(admin.getByRole('list', { name: 'Waiting clients' })).toContainText(clientName);
  await admin.getByRole('button', { name: 'Preview assignment' }).click();
  const placement = admin.getByRole('row').filter({ hasText: clientName });
  await expect(placement).toContainText(therapistName);
  const assigned = admin.waitForResponse((r) => r.url().endsWith('/match-queue/assignments'));
  await admin.getByRole('button', { name: 'Confirm assignment' }).click();
  expect((await assigned).status()).toBe(201);

  // The therapist leaves. The last admin cannot be removed: the server's reason is shown.
  await admin.getByRole('navigation', { name: 'Practice admin area' }).getByRole('link', { name: 'Team' }).click();
  const members = admin.getByRole('table', { name: 'Members' });
  await expect(members.getByRole('row').filter({ hasText: therapistName })).toContainText('Active');
  await expect(members.getByRole('row').filter({ hasText: adminName })).toContainText('Practice admin');
  await admin.getByRole('button', { name: `Remove ${adminName} from the practice` }).click();
  await expect(admin.getByText('You will be signed out everywhere at once')).toBeVisible();
  await admin.getByRole('button', { name: `Remove ${adminName}`, exact: true }).click();
  await expect(admin.getByRole('alert').filter({ hasText: 'last admin' })).toContainText(
    "This is the practice's last admin",
  );
  await admin.getByRole('button', { name: 'Keep them' }).click();

  // The therapist is removed after a confirmation that says what happens; their client waits in the queue again.
  await admin.getByRole('button', { name: `Remove ${therapistName} from the practice` }).click();
  await expect(admin.getByRole('heading', { name: `Remove ${therapistName}?` })).toBeFocused();
  await expect(admin.getByText('clients with no other therapist wait in the practice')).toBeVisible();
  await expect(admin.getByText('Their waitlist closes, and each client on it is told by email.')).toBeVisible();
  await admin.getByRole('button', { name: `Remove ${therapistName}`, exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'was removed' })).toHaveText(
    `${therapistName} was removed from the practice. 1 care relationship ended; 1 client waits in the matching queue.`,
  );
  await expect(members.getByRole('row').filter({ hasText: therapistName })).toContainText('Removed');
  await expect(admin.getByRole('button', { name: `Remove ${therapistName} from the practice` })).toHaveCount(0);
  const refused = await request.post('/api/v1/auth/token', { form: { username: therapistEmail, password } });
  expect(refused.status()).toBe(401);
  expect(((await refused.json()) as { code: string }).code).toBe('account_deactivated');
  await admin.getByRole('navigation', { name: 'Practice admin area' }).getByRole('link', { name: 'Matching queue' }).click();
  await expect(admin.getByRole('list', { name: 'Waiting clients' })).toContainText(clientName);

  // The therapist comes back: reactivated after a confirmation that says what it does not undo, they sign in again.
  await admin.getByRole('navigation', { name: 'Practice admin area' }).getByRole('link', { name: 'Team' }).click();
  await admin.getByRole('button', { name: `Reactivate ${therapistName}’s account` }).click();
  await expect(admin.getByRole('heading', { name: `Reactivate ${therapistName}?` })).toBeFocused();
  await expect(admin.getByText('The care relationships and the waitlist entries their removal ended stay ended')).toBeVisible();
  await admin.getByRole('button', { name: `Reactivate ${therapistName}`, exact: true }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'can sign in again' })).toHaveText(
    `${therapistName} can sign in again. They are listed and bookable again.`,
  );
  await expect(members.getByRole('row').filter({ hasText: therapistName })).toContainText('Active');
  await accessToken(request, therapistEmail, password);

  // Having had a client, they cannot be made an admin: the server's reason is shown.
  await admin.getByRole('button', { name: `Change the role of ${therapistName} to practice admin` }).click();
  await expect(admin.getByRole('heading', { name: `Make ${therapistName} a practice admin?` })).toBeFocused();
  await admin.getByRole('button', { name: `Make ${therapistName} a practice admin`, exact: true }).click();
  await expect(admin.getByRole('alert').filter({ hasText: 'has had clients' })).toContainText(
    'This therapist has had clients or sessions',
  );
  await admin.getByRole('button', { name: 'Keep their role' }).click();
  await expect(members.getByRole('row').filter({ hasText: therapistName })).toContainText('Therapist');
});
