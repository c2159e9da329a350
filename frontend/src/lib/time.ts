/**
 * Time-zone arithmetic with Intl only (no date library). Instants are epoch milliseconds or ISO strings from the
 * API (always UTC); local calendar dates are 'YYYY-MM-DD' strings, read in a named IANA zone.
 */

export type Instant = number | string | Date;

const MINUTE = 60_000;
const DAY = 86_400_000;

function toMs(instant: Instant): number {
  return typeof instant === 'number' ? instant : new Date(instant).getTime();
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, formatter);
  }
  return formatter;
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading of an instant in a zone. */
export function zonedParts(instant: Instant, timeZone: string): ZonedParts {
  const values: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(toMs(instant))) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  return {
    year: values.year!,
    month: values.month!,
    day: values.day!,
    hour: values.hour! % 24,
    minute: values.minute!,
    second: values.second!,
  };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in milliseconds. */
function offsetAt(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date ('YYYY-MM-DD') of an instant in a zone. */
export function localDate(instant: Instant, timeZone: string): string {
  const p = zonedParts(instant, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Minutes since local midnight of an instant in a zone. */
export function localMinutes(instant: Instant, timeZone: string): number {
  const p = zonedParts(instant, timeZone);
  return p.hour * 60 + p.minute;
}

/**
 * The instant a zone's wall clock shows `date` at `minutes` past midnight. In a spring-forward gap this is the
 * instant after the jump; in a fall-back overlap, the first of the two.
 */
export function zonedToUtc(date: string, minutes: number, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(year, month - 1, day) + minutes * MINUTE;
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  if (first === second) return first;
  // Near a transition: take the earlier candidate that really shows the wall time, else the later one.
  const candidates = [Math.min(first, second), Math.max(first, second)];
  return candidates.find((ms) => localDate(ms, timeZone) === date && localMinutes(ms, timeZone) === minutes) ?? Math.max(first, second);
}

/** Calendar arithmetic on 'YYYY-MM-DD' dates. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day) + days * DAY).toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date: Monday = 1 … Sunday = 7. */
export function isoWeekday(date: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
}

/** The Monday of the week containing a date. */
export function mondayOf(date: string): string {
  return addDays(date, 1 - isoWeekday(date));
}

export function isIsoDate(value: string | null | undefined): value is string {
  return !!value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

// ------------------------------------------------------------------------------------------------ formatting

const formatters = new Map<string, Intl.DateTimeFormat>();

function cached(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''}|${JSON.stringify(options)}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** "09:30" or "9:30 AM", as the user's locale writes a time. */
export function formatTime(instant: Instant, timeZone: string): string {
  return cached(timeZone, { hour: 'numeric', minute: '2-digit' }).format(toMs(instant));
}

/** "Tuesday, December 9" in the user's locale. */
export function formatDayLong(instant: Instant, timeZone: string): string {
  return cached(timeZone, { weekday: 'long', month: 'long', day: 'numeric' }).format(toMs(instant));
}

/** "Tue, Dec 9". */
export function formatDayShort(instant: Instant, timeZone: string): string {
  return cached(timeZone, { weekday: 'short', month: 'short', day: 'numeric' }).format(toMs(instant));
}

/** "Tue, Dec 9, 2025, 9:30 AM". */
export function formatDateTime(instant: Instant, timeZone: string): string {
  return cached(timeZone, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }).format(
    toMs(instant),
  );
}

/** A calendar date ('YYYY-MM-DD') as "Tuesday, December 9, 2025", independent of any zone. */
export function formatCalendarDate(date: string, options: Intl.DateTimeFormatOptions = { dateStyle: 'full' }): string {
  return cached('UTC', options).format(Date.parse(`${date}T12:00:00Z`));
}

/** "New York" from "America/New_York": how people name a zone. */
export function zoneCity(timeZone: string): string {
  return (timeZone.split('/').at(-1) ?? timeZone).replaceAll('_', ' ');
}

/** The zone's short name at an instant ("EST", "GMT+1"), to tell both sides of a DST change apart. */
export function zoneAbbreviation(instant: Instant, timeZone: string): string {
  const part = cached(timeZone, { timeZoneName: 'short' })
    .formatToParts(toMs(instant))
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Every IANA zone the browser knows, for a datalist. */
export function allTimeZones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}
