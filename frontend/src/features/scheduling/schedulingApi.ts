import { api } from '../../api/client';
import { ApiError, toApiError } from '../../api/problem';
import { ensureOk, unwrap } from '../../api/result';
import { allPages } from '../../api/pages';
import type { components } from '../../api/schema';
import type { CancellationTerms } from '../billing/types';
import type {
  Appointment,
  Booking,
  CalendarFeed,
  ChangeScope,
  JoinWaitlist,
  Offer,
  Series,
  SeriesInput,
  WaitlistEntry,
  Modality,
  MyProfile,
  OfficeHours,
  ProfileInput,
  PublicProfile,
  Slots,
  StaffStatus,
  TherapistPage,
} from './types';

type Money = components['schemas']['MoneyOut'];
type LateFeeProblem = components['schemas']['LateFeeProblem'];

/** A profile with the ETag to send back as If-Match. */
export interface VersionedProfile {
  profile: MyProfile;
  etag: string;
}

function etagOf(response: Response, profile: MyProfile): string {
  // The server derives the tag from the version; fall back to the same rule if a proxy strips the header.
  return response.headers.get('ETag') ?? `"v${profile.version}"`;
}

export async function fetchMyProfile(): Promise<VersionedProfile> {
  const { data, error, response } = await api.GET('/api/v1/therapists/me/profile');
  if (!data) throw toApiError(error, response);
  return { profile: data, etag: etagOf(response, data) };
}

/** Replaces the profile; a stale `etag` fails with 412 `precondition_failed`. */
export async function saveMyProfile(input: ProfileInput, etag: string): Promise<VersionedProfile> {
  const { data, error, response } = await api.PUT('/api/v1/therapists/me/profile', {
    body: input,
    params: { header: { 'if-match': etag } },
  });
  if (!data) throw toApiError(error, response);
  return { profile: data, etag: etagOf(response, data) };
}

export function fetchMyOfficeHours(): Promise<OfficeHours> {
  return unwrap(api.GET('/api/v1/therapists/me/office-hours'));
}

export function saveMyOfficeHours(hours: OfficeHours): Promise<OfficeHours> {
  return unwrap(api.PUT('/api/v1/therapists/me/office-hours', { body: hours }));
}

export function fetchTherapists(cursor: string | null): Promise<TherapistPage> {
  return unwrap(api.GET('/api/v1/therapists', { params: { query: { limit: 50, ...(cursor && { cursor }) } } }));
}

export function fetchTherapist(therapistId: string): Promise<PublicProfile> {
  return unwrap(api.GET('/api/v1/therapists/{therapist_id}', { params: { path: { therapist_id: therapistId } } }));
}

export interface SlotQuery {
  therapistId: string;
  start: string;
  end: string;
  durationMinutes: number;
  modality: Modality;
}

export function fetchSlots(query: SlotQuery): Promise<Slots> {
  return unwrap(
    api.GET('/api/v1/therapists/{therapist_id}/slots', {
      params: {
        path: { therapist_id: query.therapistId },
        query: {
          start: query.start,
          end: query.end,
          duration_minutes: query.durationMinutes,
          modality: query.modality,
        },
      },
    }),
  );
}

/** Books once per `idempotencyKey`: a retry of the same attempt gets the first answer, never a second session. */
export function bookAppointment(booking: Booking, idempotencyKey: string): Promise<Appointment> {
  return unwrap(api.POST('/api/v1/appointments', { body: booking, params: { header: { 'Idempotency-Key': idempotencyKey } } }));
}

export type AppointmentOrder = 'oldest_first' | 'newest_first';

export interface AppointmentFilter {
  start?: string;
  end?: string;
  clientId?: string;
  therapistId?: string;
  order?: AppointmentOrder;
}

/** One page of appointments visible to the user; pass back `next_cursor` for the next one. */
export function fetchAppointmentPage(
  filter: AppointmentFilter,
  cursor: string | null,
): Promise<{ items: Appointment[]; next_cursor: string | null }> {
  return unwrap(
    api.GET('/api/v1/appointments', {
      params: {
        query: {
          ...(filter.start && { start: filter.start }),
          ...(filter.end && { end: filter.end }),
          ...(filter.clientId && { client_id: filter.clientId }),
          ...(filter.therapistId && { therapist_id: filter.therapistId }),
          ...(filter.order && { order: filter.order }),
          limit: 200,
          ...(cursor && { cursor }),
        },
      },
    }),
  );
}

/**
 * Every appointment starting in [start, end), following the cursor to the end. Only for bounded views (a week, the
 * days ahead): an open-ended history is paged instead (`fetchAppointmentPage`), so nothing is dropped at a cap.
 */
export async function listAppointments(range: { start?: string; end?: string }): Promise<Appointment[]> {
  const items: Appointment[] = [];
  let cursor: string | null = null;
  do {
    const page = await fetchAppointmentPage(range, cursor);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

export function fetchAppointment(appointmentId: string): Promise<Appointment> {
  return unwrap(api.GET('/api/v1/appointments/{appointment_id}', { params: { path: { appointment_id: appointmentId } } }));
}

/**
 * Cancels a session. `acceptLateFee` is the late-cancellation fee the client was shown and confirmed: the server
 * refuses a late cancellation that costs a fee without exactly that fee (`409 late_fee_not_accepted`, see
 * `lateFeeRefusal`).
 */
export function cancelAppointment(
  appointmentId: string,
  reason: string,
  scope: ChangeScope = 'this',
  acceptLateFee: Money | null = null,
): Promise<Appointment> {
  return unwrap(
    api.POST('/api/v1/appointments/{appointment_id}/cancel', {
      params: { path: { appointment_id: appointmentId } },
      body: {
        reason: reason || null,
        ...(scope !== 'this' && { scope }),
        ...(acceptLateFee && { accept_late_fee: acceptLateFee }),
      },
    }),
  );
}

/** A late cancellation's fee and terms as the server gave them when it refused a cancel without the fee accepted. */
export interface LateFeeRefusal {
  fee: Money;
  terms: CancellationTerms;
}

/** The fee to confirm, when `error` is the server refusing a late cancellation the client has not accepted. */
export function lateFeeRefusal(error: unknown): LateFeeRefusal | null {
  if (!(error instanceof ApiError) || error.code !== 'late_fee_not_accepted') return null;
  const problem = error.body as Partial<LateFeeProblem>;
  if (!problem.late_fee || !problem.cancellation_terms) return null;
  return { fee: problem.late_fee, terms: problem.cancellation_terms };
}

/** Moves a session; with 'this_and_following' a recurring series is split here and the rest follow. */
export function rescheduleAppointment(appointmentId: string, start: string, scope: ChangeScope = 'this'): Promise<Appointment> {
  return unwrap(
    api.POST('/api/v1/appointments/{appointment_id}/reschedule', {
      params: { path: { appointment_id: appointmentId } },
      body: { start, ...(scope !== 'this' && { scope }) },
    }),
  );
}

/**
 * Books a weekly or fortnightly series; each occurrence is booked or reports its own conflict. The same
 * `idempotencyKey` again (a retry after a lost answer) returns the first answer instead of booking again.
 */
export function createSeries(series: SeriesInput, idempotencyKey: string): Promise<Series> {
  return unwrap(
    api.POST('/api/v1/appointment-series', { body: series, params: { header: { 'Idempotency-Key': idempotencyKey } } }),
  );
}

export function joinWaitlist(therapistId: string, entry: JoinWaitlist): Promise<WaitlistEntry> {
  return unwrap(
    api.POST('/api/v1/therapists/{therapist_id}/waitlist', { params: { path: { therapist_id: therapistId } }, body: entry }),
  );
}

/** A client's own entries, or the waitlist of the signed-in therapist. */
export function fetchWaitlist(): Promise<WaitlistEntry[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/waitlist', { params: { query } })));
}

export function leaveWaitlist(entryId: string): Promise<void> {
  return ensureOk(api.DELETE('/api/v1/waitlist/{entry_id}', { params: { path: { entry_id: entryId } } }));
}

export function fetchOffers(): Promise<Offer[]> {
  return allPages((query) => unwrap(api.GET('/api/v1/waitlist/offers', { params: { query } })));
}

export function claimOffer(offerId: string): Promise<Appointment> {
  return unwrap(api.POST('/api/v1/waitlist/offers/{offer_id}/claim', { params: { path: { offer_id: offerId } } }));
}

/** A new secret feed address; any earlier one stops working. */
export function createCalendarFeed(): Promise<CalendarFeed> {
  return unwrap(api.POST('/api/v1/calendar-feeds'));
}

export function revokeCalendarFeed(): Promise<void> {
  return ensureOk(api.DELETE('/api/v1/calendar-feeds'));
}

export function changeAppointmentStatus(appointmentId: string, status: StaffStatus): Promise<Appointment> {
  return unwrap(
    api.POST('/api/v1/appointments/{appointment_id}/status', {
      params: { path: { appointment_id: appointmentId } },
      body: { status },
    }),
  );
}
