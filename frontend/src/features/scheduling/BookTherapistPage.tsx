import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { useMe } from '../auth/useAuth';
import { PolicyTerms } from '../billing/PolicyTerms';
import { billingKeys, usePolicy } from '../billing/queries';
import { randomUuid } from '../../lib/uuid';
import { formatDayLong, formatTime, zoneCity } from '../../lib/time';
import { formatMoney, languageName, modalityLabel } from './labels';
import { careMayHaveStarted, schedulingKeys, useTherapist } from './queries';
import { bookAppointment, createSeries } from './schedulingApi';
import { SlotPicker } from './SlotPicker';
import type { Appointment, Booking, Frequency, Modality, PublicProfile, Series, Slot } from './types';
import { JoinWaitlistForm } from './WaitlistPages';

interface Choice {
  slot: Slot;
  therapistZone: string;
}

type Repeat = 'once' | Frequency;

const REPEATS: { value: Repeat; label: string }[] = [
  { value: 'once', label: 'Just this once' },
  { value: 'weekly', label: 'Every week' },
  { value: 'fortnightly', label: 'Every two weeks' },
];

/** The result of one press of "Confirm": a single session, or a series with its per-date outcome. */
type Outcome = { kind: 'single'; appointment: Appointment } | { kind: 'series'; series: Series };

export function BookTherapistPage() {
  const { therapistId } = useParams();
  const therapist = useTherapist(therapistId);
  return (
    <>
      <title>{`${therapist.data?.display_name ?? 'Therapist'} · Hearth`}</title>
      <QueryState isPending={therapist.isPending} error={therapist.error} what="the therapist’s profile" />
      {therapist.data && <TherapistProfile therapist={therapist.data} />}
    </>
  );
}

function TherapistProfile({ therapist }: { therapist: PublicProfile }) {
  const rates = new Map(therapist.rates.map((r) => [r.duration_minutes, r]));
  return (
    <>
      <h1>{therapist.display_name}</h1>
      {!therapist.accepting_new_clients && (
        <p className="notice">This therapist is not taking new clients at the moment; existing clients can still book.</p>
      )}
      {therapist.bio && <p className="bio">{therapist.bio}</p>}
      <dl className="facts">
        {therapist.specialties.length > 0 && (
          <>
            <dt>Specialties</dt>
            <dd>{therapist.specialties.join(', ')}</dd>
          </>
        )}
        {therapist.languages.length > 0 && (
          <>
            <dt>Languages</dt>
            <dd>{therapist.languages.map(languageName).join(', ')}</dd>
          </>
        )}
        {therapist.licenses.length > 0 && (
          <>
            <dt>Licensed in</dt>
            <dd>{therapist.licenses.join(', ')}</dd>
          </>
        )}
        <dt>Ways to meet</dt>
        <dd>{therapist.modalities.map(modalityLabel).join(', ')}</dd>
        <dt>Session lengths</dt>
        <dd>
          {therapist.session_lengths
            .map((minutes) => {
              const rate = rates.get(minutes);
              return rate ? `${minutes} min (${formatMoney(rate.amount_minor, rate.currency)})` : `${minutes} min`;
            })
            .join(', ')}
        </dd>
        <dt>Time zone</dt>
        <dd>{therapist.timezone}</dd>
      </dl>
      <Booker therapist={therapist} />
    </>
  );
}

function Booker({ therapist }: { therapist: PublicProfile }) {
  const me = useMe().data;
  const clientZone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const queryClient = useQueryClient();
  const [duration, setDuration] = useState(therapist.session_lengths[0] ?? 50);
  const [modality, setModality] = useState<Modality>(therapist.modalities[0] ?? 'video');
  const [choice, setChoice] = useState<Choice | null>(null);
  const [repeat, setRepeat] = useState<Repeat>('once');
  const [count, setCount] = useState('6');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // What the client accepts by booking: the version shown is the version sent.
  const policy = usePolicy(therapist.therapist_id);
  const [policyChanged, setPolicyChanged] = useState(false);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const outcomeRef = useRef<HTMLDivElement>(null);
  // One key per booking attempt: a retry after a lost answer replays the first result instead of booking twice.
  const attemptKey = useRef<string | null>(null);

  const book = useMutation({
    mutationFn: async (booking: Booking): Promise<Outcome> => {
      attemptKey.current ??= randomUuid();
      if (repeat !== 'once') {
        const series = await createSeries({ ...booking, frequency: repeat, count: Number(count) }, attemptKey.current);
        return { kind: 'series', series };
      }
      return { kind: 'single', appointment: await bookAppointment(booking, attemptKey.current) };
    },
    onSuccess: (result) => {
      attemptKey.current = null;
      setOutcome(result);
      setChoice(null);
      void queryClient.invalidateQueries({ queryKey: schedulingKeys.appointments });
      void queryClient.invalidateQueries({ queryKey: schedulingKeys.slots });
      careMayHaveStarted(queryClient);
    },
    onError: (error) => {
      // The server answered, so this attempt is over; the next click is a new attempt. A network failure or a
      // 5xx keeps the key, so trying again cannot create a second session.
      if (error instanceof ApiError && error.status < 500 && error.code !== 'idempotency_in_progress') {
        attemptKey.current = null;
      }
      if (error instanceof ApiError && error.code === 'policy_changed') {
        // The therapist published a new policy since it was shown: show that one, and book only when asked again.
        setPolicyChanged(true);
        void queryClient.invalidateQueries({ queryKey: billingKeys.policy(therapist.therapist_id) });
        return;
      }
      if (error instanceof ApiError && (error.status === 409 || error.status === 422)) {
        void queryClient.invalidateQueries({ queryKey: schedulingKeys.slots });
        if (error.code === 'slot_taken') setChoice(null);
      }
    },
  });

  function choose(next: Choice | null) {
    attemptKey.current = null;
    book.reset();
    setPolicyChanged(false);
    setChoice(next);
  }

  useEffect(() => {
    if (choice) confirmHeading.current?.focus();
  }, [choice]);

  // Booking removes the confirm step and its button with it: the keyboard goes on from the result.
  useEffect(() => {
    if (outcome) outcomeRef.current?.focus();
  }, [outcome]);

  const rate = therapist.rates.find((r) => r.duration_minutes === duration);
  const currency = rate?.currency ?? therapist.rates[0]?.currency ?? 'USD';
  // Never book against a policy the client has not seen: not while it loads or reloads after a change.
  const policyShown = policy.data !== undefined && !policy.isFetching;

  return (
    <>
      <section aria-labelledby="book-heading" className="booking">
        <h2 id="book-heading">Book a session</h2>
        <fieldset>
          <legend>Session length</legend>
          {therapist.session_lengths.map((minutes) => {
            const price = therapist.rates.find((r) => r.duration_minutes === minutes);
            return (
              <label key={minutes} className="choice">
                <input
                  type="radio"
                  name="duration"
                  value={minutes}
                  checked={duration === minutes}
                  onChange={() => {
                    setDuration(minutes);
                    choose(null);
                  }}
                />{' '}
                {minutes} minutes{price && ` (${formatMoney(price.amount_minor, price.currency)})`}
              </label>
            );
          })}
        </fieldset>
        <fieldset>
          <legend>How to meet</legend>
          {therapist.modalities.map((value) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="modality"
                value={value}
                checked={modality === value}
                onChange={() => {
                  setModality(value);
                  choose(null);
                }}
              />{' '}
              {modalityLabel(value)}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Repeat</legend>
          {REPEATS.map(({ value, label }) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="repeat"
                value={value}
                checked={repeat === value}
                onChange={() => {
                  setRepeat(value);
                  // Another request now: a key kept from a failed attempt would be refused as reused.
                  attemptKey.current = null;
                  book.reset();
                }}
              />{' '}
              {label}
            </label>
          ))}
          {repeat !== 'once' && (
            <TextField
              label="Number of sessions"
              name="count"
              type="number"
              min={2}
              max={52}
              required
              hint="Each session keeps the same local time, also across daylight-saving changes."
              value={count}
              onChange={(e) => {
                setCount(e.target.value);
                attemptKey.current = null;
              }}
            />
          )}
        </fieldset>
      </section>

      <StatusMessage className="success">
        {outcome && (
          <div ref={outcomeRef} tabIndex={-1}>
            {outcome.kind === 'single' ? (
              <p>
                Booked: {outcome.appointment.duration_minutes}-minute{' '}
                {modalityLabel(outcome.appointment.modality).toLowerCase()} session on{' '}
                {formatDayLong(outcome.appointment.start, clientZone)} at{' '}
                {formatTime(outcome.appointment.start, clientZone)}. <Link to="/client/appointments">See my appointments</Link>
              </p>
            ) : (
              <SeriesSummary series={outcome.series} zone={clientZone} />
            )}
          </div>
        )}
      </StatusMessage>

      {choice && (
        <section aria-labelledby="confirm-heading" className="confirm">
          <h2 id="confirm-heading" ref={confirmHeading} tabIndex={-1}>
            Confirm your booking
          </h2>
          <dl className="facts">
            <dt>With</dt>
            <dd>{therapist.display_name}</dd>
            <dt>When (your time)</dt>
            <dd>
              {formatDayLong(choice.slot.start, clientZone)}, {formatTime(choice.slot.start, clientZone)}–
              {formatTime(choice.slot.end, clientZone)} ({clientZone})
            </dd>
            {choice.therapistZone !== clientZone && (
              <>
                <dt>Therapist&rsquo;s time</dt>
                <dd>
                  {formatDayLong(choice.slot.start, choice.therapistZone)},{' '}
                  {formatTime(choice.slot.start, choice.therapistZone)} in {zoneCity(choice.therapistZone)}
                </dd>
              </>
            )}
            <dt>Length</dt>
            <dd>{duration} minutes</dd>
            <dt>How</dt>
            <dd>{modalityLabel(modality)}</dd>
            {repeat !== 'once' && (
              <>
                <dt>Repeats</dt>
                <dd>
                  {repeat === 'weekly' ? 'Every week' : 'Every two weeks'}, {count} sessions
                </dd>
              </>
            )}
            {rate && (
              <>
                <dt>Price</dt>
                <dd>{formatMoney(rate.amount_minor, rate.currency)}</dd>
              </>
            )}
          </dl>
          <section aria-labelledby="policy-heading">
            <h3 id="policy-heading">Cancellation policy</h3>
            {policyChanged && (
              <p className="notice">
                {therapist.display_name} changed their cancellation policy while you were booking. This is the new
                one: read it, then confirm again.
              </p>
            )}
            <QueryState isPending={policy.isPending} error={policy.error} what="the cancellation policy" />
            {policy.data !== undefined && <PolicyTerms policy={policy.data?.data ?? null} currency={currency} price={rate} />}
            <p className="hint">
              By booking you accept this policy{repeat !== 'once' && ' for every session of the series'}.
            </p>
          </section>
          <ErrorAlert error={book.error} />
          <div className="actions">
            <button
              type="button"
              disabled={book.isPending || !policyShown}
              onClick={() =>
                book.mutate({
                  therapist_id: therapist.therapist_id,
                  start: choice.slot.start,
                  duration_minutes: duration,
                  modality,
                  // Without a policy there is nothing to accept (and nothing is ever charged).
                  ...(policy.data && { policy_version: policy.data.data.version }),
                })
              }
            >
              {book.isPending ? 'Booking…' : repeat === 'once' ? 'Confirm booking' : `Book ${count} sessions`}
            </button>
            <button type="button" className="secondary" onClick={() => choose(null)}>
              Choose another time
            </button>
          </div>
        </section>
      )}
      {!choice && <ErrorAlert error={book.error} />}

      <SlotPicker
        key={`${duration}-${modality}`}
        therapistId={therapist.therapist_id}
        durationMinutes={duration}
        modality={modality}
        viewerZone={clientZone}
        showTherapistZone
        heading="Choose a time"
        selected={choice?.slot.start ?? null}
        onSelect={(slot, therapistZone) => {
          setOutcome(null);
          choose({ slot, therapistZone });
        }}
        whenEmpty={<p>Nothing free? Join the waitlist below and claim a time when one opens up.</p>}
      />

      <JoinWaitlistForm therapist={therapist} preferredDuration={duration} />
    </>
  );
}

function SeriesSummary({ series, zone }: { series: Series; zone: string }) {
  const booked = series.occurrences.filter((o) => o.status === 'booked').length;
  return (
    <>
      <p>
        Booked {booked} of {series.occurrences.length} sessions, {series.frequency === 'weekly' ? 'every week' : 'every two weeks'}.{' '}
        <Link to="/client/appointments">See my appointments</Link>
      </p>
      <ul>
        {series.occurrences.map((o) => (
          <li key={o.index}>
            {formatDayLong(o.start, zone)}, {formatTime(o.start, zone)}:{' '}
            {o.status === 'booked' ? 'booked' : `not booked (${o.problem_detail ?? o.problem_code ?? 'conflict'})`}
          </li>
        ))}
      </ul>
    </>
  );
}
