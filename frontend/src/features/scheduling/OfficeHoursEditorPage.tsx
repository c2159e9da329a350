import { useEffect, useState, type FormEvent } from 'react';
import { fieldMessage } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { TimeZoneField } from '../../components/TimeZoneField';
import { formatCalendarDate } from '../../lib/time';
import { WEEKDAYS } from './labels';
import { useMyOfficeHours, useSaveMyOfficeHours } from './queries';
import type { OfficeHours, WeeklyRange } from './types';

interface RangeDraft {
  key: number;
  start: string;
  end: string;
}

/** Ranges per ISO weekday: index 0 is Monday. */
type WeekDraft = RangeDraft[][];

interface ExceptionDraft {
  key: number;
  date: string;
  dayOff: boolean;
  ranges: RangeDraft[];
}

interface Draft {
  timezone: string;
  weekly: WeekDraft;
  exceptions: ExceptionDraft[];
  buffer_minutes: string;
  max_sessions_per_day: string;
  min_notice_minutes: string;
  horizon_days: string;
  messagingOn: boolean;
  messaging: WeekDraft;
}

const TIME_PATTERN = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';
const TIME_TITLE = 'A 24-hour time such as 09:00 or 17:30; 24:00 is midnight at the end of the day';

let nextKey = 1;
const newKey = () => nextKey++;

function weekDraft(ranges: WeeklyRange[] | null | undefined): WeekDraft {
  return WEEKDAYS.map((_, i) =>
    (ranges ?? []).filter((r) => r.weekday === i + 1).map((r) => ({ key: newKey(), start: r.start, end: r.end })),
  );
}

function weekRanges(week: WeekDraft): WeeklyRange[] {
  return week.flatMap((ranges, i) => ranges.map((r) => ({ weekday: i + 1, start: r.start.trim(), end: r.end.trim() })));
}

function copyRanges(ranges: RangeDraft[]): RangeDraft[] {
  return ranges.map((r) => ({ ...r, key: newKey() }));
}

function draftOf(hours: OfficeHours): Draft {
  return {
    timezone: hours.timezone,
    weekly: weekDraft(hours.weekly),
    exceptions: (hours.exceptions ?? []).map((e) => ({
      key: newKey(),
      date: e.date,
      dayOff: !e.ranges?.length,
      ranges: (e.ranges ?? []).map((r) => ({ key: newKey(), start: r.start, end: r.end })),
    })),
    buffer_minutes: String(hours.buffer_minutes ?? 0),
    max_sessions_per_day: hours.max_sessions_per_day == null ? '' : String(hours.max_sessions_per_day),
    min_notice_minutes: String(hours.min_notice_minutes ?? 0),
    horizon_days: String(hours.horizon_days ?? 60),
    messagingOn: hours.messaging_hours != null,
    messaging: weekDraft(hours.messaging_hours),
  };
}

function hoursOf(draft: Draft): OfficeHours {
  return {
    timezone: draft.timezone.trim(),
    weekly: weekRanges(draft.weekly),
    exceptions: [...draft.exceptions]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((e) => ({
        date: e.date,
        ranges: e.dayOff ? [] : e.ranges.map((r) => ({ start: r.start.trim(), end: r.end.trim() })),
      })),
    buffer_minutes: Number(draft.buffer_minutes),
    max_sessions_per_day: draft.max_sessions_per_day.trim() ? Number(draft.max_sessions_per_day) : null,
    min_notice_minutes: Number(draft.min_notice_minutes),
    horizon_days: Number(draft.horizon_days),
    messaging_hours: draft.messagingOn ? weekRanges(draft.messaging) : null,
  };
}

/** Moves focus to an element by id once it has rendered (after adding or removing a row). */
function useFocusAfterRender() {
  const [target, setTarget] = useState<string | null>(null);
  useEffect(() => {
    if (!target) return;
    document.getElementById(target)?.focus();
    setTarget(null);
  }, [target]);
  return setTarget;
}

export function OfficeHoursEditorPage() {
  const hours = useMyOfficeHours();
  return (
    <>
      <title>Office hours · Hearth</title>
      <h1>Office hours</h1>
      <p>
        When clients can book you, in your own time zone. Times are on the 24-hour clock; an end of 24:00 means
        midnight at the end of the day.
      </p>
      <QueryState isPending={hours.isPending} error={hours.error} what="your office hours" />
      {hours.data && <OfficeHoursForm loaded={hours.data} />}
    </>
  );
}

function OfficeHoursForm({ loaded }: { loaded: OfficeHours }) {
  const [draft, setDraft] = useState(() => draftOf(loaded));
  const [saved, setSaved] = useState(false);
  const save = useSaveMyOfficeHours();
  const focusLater = useFocusAfterRender();
  const error = save.error;

  function update(change: (d: Draft) => Draft) {
    setDraft(change);
    setSaved(false);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSaved(false);
    save.mutate(hoursOf(draft), { onSuccess: () => setSaved(true) });
  }

  function addException() {
    const key = newKey();
    update((d) => ({ ...d, exceptions: [...d.exceptions, { key, date: '', dayOff: true, ranges: [] }] }));
    focusLater(`exception-${key}-date`);
  }

  return (
    <form onSubmit={onSubmit} aria-label="Office hours">
      <TimeZoneField
        name="timezone"
        hint="The zone your office hours are read in."
        value={draft.timezone}
        onChange={(zone) => update((d) => ({ ...d, timezone: zone }))}
        error={fieldMessage(error, 'timezone')}
      />

      <section aria-labelledby="weekly-heading" className="form-section">
        <h2 id="weekly-heading">Weekly hours</h2>
        <WeekEditor
          idPrefix="weekly"
          week={draft.weekly}
          emptyText="Closed"
          onChange={(weekly) => update((d) => ({ ...d, weekly }))}
          focusLater={focusLater}
        />
      </section>

      <section aria-labelledby="exceptions-heading" className="form-section">
        <h2 id="exceptions-heading">Exceptions</h2>
        <p className="hint">Dates when your hours differ from the weekly pattern: a day off, or other hours.</p>
        {draft.exceptions.length === 0 && <p>No exceptions.</p>}
        {draft.exceptions.map((exception, index) => {
          const setException = (change: Partial<ExceptionDraft>) =>
            update((d) => ({
              ...d,
              exceptions: d.exceptions.map((e) => (e.key === exception.key ? { ...e, ...change } : e)),
            }));
          const legend = exception.date
            ? `Exception on ${formatCalendarDate(exception.date)}`
            : `Exception ${index + 1}`;
          return (
            <fieldset key={exception.key}>
              <legend>{legend}</legend>
              <div className="field">
                <label htmlFor={`exception-${exception.key}-date`}>Date</label>
                <input
                  id={`exception-${exception.key}-date`}
                  type="date"
                  required
                  value={exception.date}
                  onChange={(e) => setException({ date: e.target.value })}
                />
              </div>
              <div role="radiogroup" aria-label="Day off or other hours" className="inline-choices">
                <label className="choice">
                  <input
                    type="radio"
                    name={`exception-${exception.key}-kind`}
                    checked={exception.dayOff}
                    onChange={() => setException({ dayOff: true })}
                  />{' '}
                  Day off
                </label>
                <label className="choice">
                  <input
                    type="radio"
                    name={`exception-${exception.key}-kind`}
                    checked={!exception.dayOff}
                    onChange={() =>
                      setException({
                        dayOff: false,
                        ranges: exception.ranges.length
                          ? exception.ranges
                          : [{ key: newKey(), start: '09:00', end: '17:00' }],
                      })
                    }
                  />{' '}
                  Different hours
                </label>
              </div>
              {!exception.dayOff && (
                <RangeList
                  idPrefix={`exception-${exception.key}`}
                  dayName={legend}
                  ranges={exception.ranges}
                  emptyText="No hours: a day off"
                  onChange={(ranges) => setException({ ranges })}
                  focusLater={focusLater}
                />
              )}
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  update((d) => ({ ...d, exceptions: d.exceptions.filter((e) => e.key !== exception.key) }));
                  focusLater('add-exception');
                }}
              >
                Remove this exception
              </button>
            </fieldset>
          );
        })}
        <button type="button" id="add-exception" className="secondary" onClick={addException}>
          Add an exception
        </button>
      </section>

      <section aria-labelledby="rules-heading" className="form-section">
        <h2 id="rules-heading">Booking rules</h2>
        <TextField
          label="Buffer between sessions (minutes)"
          name="buffer_minutes"
          type="number"
          min={0}
          max={120}
          required
          value={draft.buffer_minutes}
          onChange={(e) => update((d) => ({ ...d, buffer_minutes: e.target.value }))}
          error={fieldMessage(error, 'buffer_minutes')}
        />
        <TextField
          label="Most sessions per day"
          name="max_sessions_per_day"
          type="number"
          min={1}
          max={48}
          hint="Leave empty for no limit."
          value={draft.max_sessions_per_day}
          onChange={(e) => update((d) => ({ ...d, max_sessions_per_day: e.target.value }))}
          error={fieldMessage(error, 'max_sessions_per_day')}
        />
        <TextField
          label="Minimum notice (minutes)"
          name="min_notice_minutes"
          type="number"
          min={0}
          max={43200}
          required
          hint="How long before a session it can still be booked. 0 = until it starts; 1440 = one day."
          value={draft.min_notice_minutes}
          onChange={(e) => update((d) => ({ ...d, min_notice_minutes: e.target.value }))}
          error={fieldMessage(error, 'min_notice_minutes')}
        />
        <TextField
          label="Booking horizon (days)"
          name="horizon_days"
          type="number"
          min={1}
          max={366}
          required
          hint="How far ahead clients can book."
          value={draft.horizon_days}
          onChange={(e) => update((d) => ({ ...d, horizon_days: e.target.value }))}
          error={fieldMessage(error, 'horizon_days')}
        />
      </section>

      <section aria-labelledby="messaging-heading" className="form-section">
        <h2 id="messaging-heading">Messaging hours</h2>
        <label className="choice">
          <input
            type="checkbox"
            checked={draft.messagingOn}
            aria-describedby="messaging-hint"
            onChange={(e) => update((d) => ({ ...d, messagingOn: e.target.checked }))}
          />{' '}
          Answer messages only during set hours
        </label>
        <p className="hint" id="messaging-hint">
          Outside these hours clients get an automatic reply with crisis resources. Off: no automatic reply.
        </p>
        {draft.messagingOn && (
          <>
            <button
              type="button"
              className="secondary"
              onClick={() => update((d) => ({ ...d, messaging: d.weekly.map(copyRanges) }))}
            >
              Same as office hours
            </button>
            <WeekEditor
              idPrefix="messaging"
              week={draft.messaging}
              emptyText="No messaging hours"
              onChange={(messaging) => update((d) => ({ ...d, messaging }))}
              focusLater={focusLater}
            />
          </>
        )}
      </section>

      <ErrorAlert error={error} />
      <StatusMessage>{saved && <p>Office hours saved.</p>}</StatusMessage>
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save office hours'}
      </button>
    </form>
  );
}

function WeekEditor({
  idPrefix,
  week,
  emptyText,
  onChange,
  focusLater,
}: {
  idPrefix: string;
  week: WeekDraft;
  emptyText: string;
  onChange: (week: WeekDraft) => void;
  focusLater: (id: string) => void;
}) {
  return (
    <>
      <button
        type="button"
        className="secondary"
        onClick={() => onChange(week.map(() => copyRanges(week[0] ?? [])))}
      >
        Copy Monday to every day
      </button>
      {WEEKDAYS.map((day, i) => (
        <fieldset key={day} className="day-ranges">
          <legend>{day}</legend>
          <RangeList
            idPrefix={`${idPrefix}-${i + 1}`}
            dayName={day}
            ranges={week[i] ?? []}
            emptyText={emptyText}
            onChange={(ranges) => onChange(week.map((r, j) => (j === i ? ranges : r)))}
            focusLater={focusLater}
          />
        </fieldset>
      ))}
    </>
  );
}

function RangeList({
  idPrefix,
  dayName,
  ranges,
  emptyText,
  onChange,
  focusLater,
}: {
  idPrefix: string;
  dayName: string;
  ranges: RangeDraft[];
  emptyText: string;
  onChange: (ranges: RangeDraft[]) => void;
  focusLater: (id: string) => void;
}) {
  const addId = `${idPrefix}-add`;
  const last = ranges.at(-1);

  function add() {
    const key = newKey();
    // A new range starts where the previous one ended, so adding an evening block is one edit.
    const start = last && last.end !== '24:00' ? last.end : '09:00';
    const end = start < '17:00' ? '17:00' : '24:00';
    onChange([...ranges, { key, start, end }]);
    focusLater(`${idPrefix}-${key}-start`);
  }

  return (
    <>
      {ranges.length === 0 ? (
        <p className="muted">{emptyText}</p>
      ) : (
        <ul className="ranges">
          {ranges.map((range, n) => {
            const setRange = (change: Partial<RangeDraft>) =>
              onChange(ranges.map((r) => (r.key === range.key ? { ...r, ...change } : r)));
            const which = ranges.length > 1 ? ` ${n + 1}` : '';
            return (
              <li key={range.key} className="range">
                <div className="field">
                  <label htmlFor={`${idPrefix}-${range.key}-start`}>
                    From
                    {which && <span className="visually-hidden"> (range{which})</span>}
                  </label>
                  <input
                    id={`${idPrefix}-${range.key}-start`}
                    required
                    inputMode="numeric"
                    pattern={TIME_PATTERN}
                    title={TIME_TITLE}
                    placeholder="09:00"
                    size={6}
                    value={range.start}
                    onChange={(e) => setRange({ start: e.target.value })}
                  />
                </div>
                <div className="field">
                  <label htmlFor={`${idPrefix}-${range.key}-end`}>
                    To
                    {which && <span className="visually-hidden"> (range{which})</span>}
                  </label>
                  <input
                    id={`${idPrefix}-${range.key}-end`}
                    required
                    inputMode="numeric"
                    pattern={TIME_PATTERN}
                    title={TIME_TITLE}
                    placeholder="17:00"
                    size={6}
                    value={range.end}
                    onChange={(e) => setRange({ end: e.target.value })}
                  />
                </div>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Remove ${dayName} ${range.start}–${range.end}`}
                  onClick={() => {
                    onChange(ranges.filter((r) => r.key !== range.key));
                    focusLater(addId);
                  }}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <button type="button" id={addId} className="secondary" onClick={add}>
        Add hours<span className="visually-hidden"> on {dayName}</span>
      </button>
    </>
  );
}
