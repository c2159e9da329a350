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

/**
 * Holds the session through the API, as a chat session: the client checks in "not alone today", which turns it into
 * chat (the conversation is the room, nobody joins a call), and the therapist ends it. A video session would need
 * both to join over WebSocket with media, which the call specs cover; these tests only need a session that was held.
 * Waits until the session has started (at most about a minute after booking), as the notes' "held" rule expects.
 */
export async function completeSession(
  request: APIRequestContext,
  therapist: ApiUser,
  client: ApiUser,
  session: Appointment,
): Promise<void> {
  const wait = Date.parse(session.start) - Date.now() + 250;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const checkIn = await request.post(`/api/v1/appointments/${session.id}/check-in`, {
    headers: bearer(client),
    data: {
      country: 'US',
      region: 'NY',
      at_home: true,
      emergency_contact: { name: 'Robin Contact', phone: '+12125550100' },
      emergency_contact_updated: false,
      private: false,
    },
  });
  expect(checkIn.status(), await checkIn.text()).toBe(200);
  const ended = await request.post(`/api/v1/appointments/${session.id}/session/end`, { headers: bearer(therapist) });
  expect(ended.status(), await ended.text()).toBe(200);
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
