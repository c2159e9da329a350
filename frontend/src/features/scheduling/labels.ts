import { MINOR_UNITS } from '../../api/currencies';
import type { AppointmentStatus, Modality, StaffStatus } from './types';

export const MODALITIES: { value: Modality; label: string }[] = [
  { value: 'video', label: 'Video' },
  { value: 'audio', label: 'App audio' },
  { value: 'phone', label: 'Phone' },
  { value: 'chat', label: 'Live chat' },
];

export function modalityLabel(modality: Modality): string {
  return MODALITIES.find((m) => m.value === modality)?.label ?? modality;
}

/** Session lengths the API accepts: 10 to 60 minutes in steps of 5. */
export const SESSION_LENGTHS = Array.from({ length: 11 }, (_, i) => 10 + i * 5);

const STATUS_LABELS: Record<AppointmentStatus, string> = {
  booked: 'Booked',
  cancelled: 'Cancelled',
  late_cancelled: 'Cancelled late',
  checked_in: 'Checked in',
  in_progress: 'In progress',
  completed: 'Completed',
  no_show: 'No-show',
};

export function statusLabel(status: AppointmentStatus): string {
  return STATUS_LABELS[status];
}

export function isCancelled(status: AppointmentStatus): boolean {
  return status === 'cancelled' || status === 'late_cancelled';
}

/**
 * The staff actions offered from each state: a subset of domain/scheduling/model.py TRANSITIONS. Check-in and
 * start are left to the live session, which records them itself (the client's safety check-in, both joining the
 * call): by hand the server refuses them before the join window opens, and a start until both have joined, so a
 * button for them would mostly fail, and a check-in by hand carries none of the client's safety answers.
 */
export const STAFF_TRANSITIONS: Record<AppointmentStatus, StaffStatus[]> = {
  booked: ['no_show'],
  checked_in: ['no_show'],
  in_progress: ['completed'],
  cancelled: [],
  late_cancelled: [],
  completed: [],
  no_show: [],
};

export const STAFF_ACTION_LABELS: Record<StaffStatus, string> = {
  checked_in: 'Mark checked in',
  in_progress: 'Mark in progress',
  completed: 'Mark completed',
  no_show: 'Mark no-show',
};

/** Weekday names, ISO order (Monday = 1 at index 0). */
export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** "Client 1a2b3c": what a client is called until their name is read (`useClientName`), or when it cannot be. */
export function clientLabel(clientId: string): string {
  return `Client ${clientId.slice(0, 6)}`;
}

/** The currency's ISO 4217 exponent as the server uses it (amounts are minor units in it); Intl's data only for a
 * code the server does not bill in, since Intl disagrees for some (HUF, COP, IDR, PKR). */
export function minorUnitDigits(currency: string): number {
  const iso = MINOR_UNITS[currency];
  if (iso !== undefined) return iso;
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amountMinor / 10 ** digits);
  } catch {
    return `${(amountMinor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** "Spanish" for "es", in the user's language. */
export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
