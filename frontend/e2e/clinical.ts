// Set-up through the API for the clinical-record tests (plans, notes, measures) whose UI path another test covers.
import { expect, type APIRequestContext } from '@playwright/test';
import type { ApiUser, Appointment } from './scheduling';

const bearer = (user: ApiUser) => ({ Authorization: `Bearer ${user.token}` });

/**
 * Books a session at the next whole minute at least a few seconds away, so it starts within a minute.
 *
 * Notes need a completed session, and a session can only be marked completed once it has started. The slots
 * endpoint offers starts on a 15-minute grid, but booking accepts any whole-minute start inside office hours
 * (`check_bookable`), and `bookableTherapist` asks no notice: so the wait is at most about a minute, not 15.
 */
export async function bookSessionStartingSoon(
  request: APIRequestContext,
  client: ApiUser,
  therapist: ApiUser,
  durationMinutes = 20,
): Promise<Appointment> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const start = new Date(Math.ceil((Date.now() + 5_000) / 60_000) * 60_000);
    const booked = await request.post('/api/v1/appointments', {
      headers: { ...bearer(client), 'Idempotency-Key': crypto.randomUUID() },
      data: { therapist_id: therapist.id, start: start.toISOString(), duration_minutes: durationMinutes, modality: 'video' },
    });
    if (booked.status() === 201) return (await booked.json()) as Appointment;
    // The minute went by while the request was on its way: take the next one.
    const problem = (await booked.json()) as { code?: string };
    expect(problem.code, `booking failed: ${JSON.stringify(problem)}`).toBe('too_short_notice');
  }
  throw new Error('could not book a session starting soon');
}

async function setStatus(request: APIRequestContext, therapist: ApiUser, id: string, status: string) {
  return request.post(`/api/v1/appointments/${id}/status`, { headers: bearer(therapist), data: { status } });
}

/** Waits until the session has started (at most about a minute after booking), then records it as held. */
export async function completeSession(request: APIRequestContext, therapist: ApiUser, session: Appointment): Promise<void> {
  const wait = Date.parse(session.start) - Date.now() + 250;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  expect((await setStatus(request, therapist, session.id, 'checked_in')).status()).toBe(200);
  expect((await setStatus(request, therapist, session.id, 'in_progress')).status()).toBe(200);
  // The server's clock decides when a session has started; give it a moment if ours runs ahead.
  await expect(async () => {
    const response = await setStatus(request, therapist, session.id, 'completed');
    expect(response.status(), await response.text()).toBe(200);
  }).toPass({ intervals: [500, 1_000], timeout: 10_000 });
}

export interface PlanInput {
  problems?: string[];
  goals?: {
    id: string;
    text: string;
    status: string;
    target_date?: string | null;
    objectives?: unknown[];
  }[];
  interventions?: { text: string; frequency?: string }[];
  review_date?: string | null;
}

/** Writes the next plan version; `etag` is '"v0"' to create it. Returns the new ETag. */
export async function writePlanViaApi(
  request: APIRequestContext,
  therapist: ApiUser,
  clientId: string,
  plan: PlanInput,
  etag: string,
): Promise<string> {
  const response = await request.put(`/api/v1/clients/${clientId}/plan`, {
    headers: { ...bearer(therapist), 'If-Match': etag },
    data: plan,
  });
  expect(response.status(), await response.text()).toBe(200);
  return response.headers()['etag']!;
}
