import { useId, useMemo, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../../components/ErrorAlert';
import { StatusMessage } from '../../components/StatusMessage';
import { formatDayLong, formatDayShort, formatTime, localDate, zoneCity } from '../../lib/time';
import { useSlots } from './queries';
import type { Modality, Slot } from './types';

export const SLOT_DAYS = 14;

interface SlotPickerProps {
  therapistId: string;
  durationMinutes: number;
  modality: Modality;
  /** The zone the viewer thinks in: days are grouped and times shown in it first. */
  viewerZone: string;
  /** Also show each time in the therapist's zone (the zone the slots API reports). */
  showTherapistZone: boolean;
  heading: string;
  /** The picker's heading level, to fit the page's outline. */
  headingLevel?: 2 | 3;
  selected: string | null;
  onSelect: (slot: Slot, therapistZone: string) => void;
  /** Shown when no time is free, e.g. a way to join the waitlist. */
  whenEmpty?: ReactNode;
}

/**
 * Free times for the next 14 days, one collapsible group per day in the viewer's zone. Each time is a plain
 * button (no dragging), pressed when chosen.
 */
export function SlotPicker({
  therapistId,
  durationMinutes,
  modality,
  viewerZone,
  showTherapistZone,
  heading,
  headingLevel = 2,
  selected,
  onSelect,
  whenEmpty,
}: SlotPickerProps) {
  const headingId = useId();
  const Heading = headingLevel === 3 ? 'h3' : 'h2';
  // Fixed when the picker opens, so the query key stays stable while the user looks.
  const [range] = useState(() => {
    const now = Date.now();
    return { start: new Date(now).toISOString(), end: new Date(now + SLOT_DAYS * 86_400_000).toISOString() };
  });
  const slots = useSlots({ therapistId, durationMinutes, modality, start: range.start, end: range.end });
  const therapistZone = slots.data?.timezone ?? viewerZone;
  const bothZones = showTherapistZone && therapistZone !== viewerZone;
  const current = slots.data && slots.data.duration_minutes === durationMinutes && slots.data.modality === modality;

  const days = useMemo(() => {
    const byDay = new Map<string, Slot[]>();
    for (const slot of slots.data?.slots ?? []) {
      const day = localDate(slot.start, viewerZone);
      byDay.set(day, [...(byDay.get(day) ?? []), slot]);
    }
    return [...byDay.entries()];
  }, [slots.data, viewerZone]);

  const count = slots.data?.slots.length ?? 0;
  let status = '';
  if (slots.isFetching && !current) status = 'Looking for free times…';
  else if (slots.data)
    status =
      count === 0
        ? `No free ${durationMinutes}-minute times in the next ${SLOT_DAYS} days.`
        : `${count} free ${durationMinutes}-minute ${count === 1 ? 'time' : 'times'} on ${days.length} ${days.length === 1 ? 'day' : 'days'}.`;

  return (
    <section aria-labelledby={headingId} className="slot-picker">
      <Heading id={headingId}>{heading}</Heading>
      <p className="hint">
        {bothZones ? (
          <>
            Times are in your time zone ({viewerZone}), with the therapist&rsquo;s time ({therapistZone}) beside each.
          </>
        ) : showTherapistZone ? (
          <>You and the therapist are both on {viewerZone} time.</>
        ) : (
          <>Times are in your time zone ({viewerZone}).</>
        )}
      </p>
      <ErrorAlert error={slots.error} />
      <StatusMessage>{status && <p>{status}</p>}</StatusMessage>
      {slots.data && count === 0 && whenEmpty}
      <div className="slot-days" aria-busy={slots.isFetching}>
        {days.map(([day, daySlots], index) => (
          <details key={day} className="slot-day" open={index === 0}>
            <summary>
              {formatDayLong(daySlots[0]!.start, viewerZone)}{' '}
              <span className="muted">
                · {daySlots.length} {daySlots.length === 1 ? 'time' : 'times'}
              </span>
            </summary>
            <ul className="slot-list">
              {daySlots.map((slot) => {
                const theirDay = localDate(slot.start, therapistZone);
                return (
                  <li key={slot.start}>
                    <button
                      type="button"
                      className="slot"
                      aria-pressed={selected === slot.start}
                      onClick={() => onSelect(slot, therapistZone)}
                    >
                      <span className="slot-time">{formatTime(slot.start, viewerZone)}</span>
                      {bothZones && (
                        <span className="slot-other">
                          <span className="visually-hidden">, therapist&rsquo;s time </span>
                          {formatTime(slot.start, therapistZone)}
                          {theirDay !== day && ` ${formatDayShort(slot.start, therapistZone)}`} in{' '}
                          {zoneCity(therapistZone)}
                        </span>
                      )}
                    </button>
                  </li>
                );
              })}
            </ul>
          </details>
        ))}
      </div>
    </section>
  );
}
