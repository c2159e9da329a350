import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextField } from '../../components/TextField';
import { addDays, formatCalendarDate, formatDateTime, formatDayLong, formatTime, zoneCity } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { ClientName } from '../clients/clientNames';
import { WEEKDAYS, modalityLabel } from './labels';
import { useClaimOffer, useJoinWaitlist, useLeaveWaitlist, useOffers, useTherapists, useWaitlist } from './queries';
import type { Appointment, Modality, Offer, PublicProfile, WaitlistEntry } from './types';

const TIME_PATTERN = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';
/** 1 January 2024 was a Monday: ISO weekday n is this date plus n − 1 days. */
const A_MONDAY = '2024-01-01';

function weekdayShort(isoWeekday: number): string {
  return formatCalendarDate(addDays(A_MONDAY, isoWeekday - 1), { weekday: 'short' });
}

/** "Mon, Wed · 09:00–12:00 · 50 min · any way", the preferences of an entry in words. */
function describeEntry(entry: WaitlistEntry): { days: string; times: string; lengths: string; way: string } {
  return {
    days: entry.weekdays.length ? entry.weekdays.map(weekdayShort).join(', ') : 'Any day',
    times: entry.time_ranges.length ? entry.time_ranges.map((r) => `${r.start}–${r.end}`).join(', ') : 'Any time',
    lengths: `${entry.durations.join(', ')} min`,
    way: entry.modality ? modalityLabel(entry.modality) : 'Any way offered',
  };
}

// ------------------------------------------------------------------------------------------------ join

export function JoinWaitlistForm({ therapist, preferredDuration }: { therapist: PublicProfile; preferredDuration: number }) {
  const zone = useMe().data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const join = useJoinWaitlist();
  const [durations, setDurations] = useState<number[]>([preferredDuration]);
  const [modality, setModality] = useState<Modality | null>(null);
  const [weekdays, setWeekdays] = useState<number[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [problem, setProblem] = useState<string | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (durations.length === 0) return setProblem('Tick at least one session length.');
    if (!!from !== !!to) return setProblem('Give both a start and an end time, or leave both empty for any time.');
    setProblem(null);
    join.mutate({
      therapistId: therapist.therapist_id,
      entry: {
        durations: [...durations].sort((a, b) => a - b),
        modality,
        weekdays: [...weekdays].sort(),
        time_ranges: from && to ? [{ start: from, end: to }] : [],
      },
    });
  }

  const already = join.error instanceof ApiError && join.error.code === 'already_waitlisted';

  return (
    <section aria-labelledby="waitlist-heading" className="form-section">
      <h2 id="waitlist-heading">Waitlist</h2>
      <p>
        No time that suits you? Join {therapist.display_name}&rsquo;s waitlist. When a matching time frees up you get
        an email and can claim it on your <Link to="/client/waitlist">Waitlist</Link> page; the first to claim it
        books it.
      </p>
      <form onSubmit={onSubmit} aria-labelledby="waitlist-heading">
        <fieldset>
          <legend>Lengths you would take</legend>
          {therapist.session_lengths.map((minutes) => (
            <label key={minutes} className="choice">
              <input
                type="checkbox"
                checked={durations.includes(minutes)}
                onChange={(e) =>
                  setDurations((d) => (e.target.checked ? [...d, minutes] : d.filter((m) => m !== minutes)))
                }
              />{' '}
              {minutes} minutes
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Way to meet you would take</legend>
          <label className="choice">
            <input type="radio" name="waitlist-modality" checked={modality === null} onChange={() => setModality(null)} /> Any
            way offered
          </label>
          {therapist.modalities.map((value) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="waitlist-modality"
                checked={modality === value}
                onChange={() => setModality(value)}
              />{' '}
              {modalityLabel(value)}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Days</legend>
          <p className="hint">Leave all unticked for any day.</p>
          <div className="choices-grid">
            {WEEKDAYS.map((day, i) => (
              <label key={day} className="choice">
                <input
                  type="checkbox"
                  checked={weekdays.includes(i + 1)}
                  onChange={(e) =>
                    setWeekdays((w) => (e.target.checked ? [...w, i + 1] : w.filter((d) => d !== i + 1)))
                  }
                />{' '}
                {day}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Times, in your time zone ({zone})</legend>
          <p className="hint">24-hour clock, e.g. 17:00 to 21:00. Leave both empty for any time.</p>
          <div className="range">
            <TextField
              label="Earliest start"
              name="waitlist-from"
              inputMode="numeric"
              pattern={TIME_PATTERN}
              title="A 24-hour time such as 09:00"
              size={6}
              value={from}
              onChange={(e) => setFrom(e.target.value)}
            />
            <TextField
              label="Latest end"
              name="waitlist-to"
              inputMode="numeric"
              pattern={TIME_PATTERN}
              title="A 24-hour time such as 17:00; 24:00 is midnight"
              size={6}
              value={to}
              onChange={(e) => setTo(e.target.value)}
            />
          </div>
        </fieldset>
        {already ? (
          <div className="alert" role="alert">
            <p>
              You are already on this waitlist. See your <Link to="/client/waitlist">Waitlist</Link> page.
            </p>
          </div>
        ) : (
          <ErrorAlert error={problem ? new Error(problem) : join.error} />
        )}
        <StatusMessage className="success">
          {join.isSuccess && (
            <p>
              You are on the waitlist. Offers appear on your <Link to="/client/waitlist">Waitlist</Link> page.
            </p>
          )}
        </StatusMessage>
        <button type="submit" className="secondary" disabled={join.isPending}>
          {join.isPending ? 'Joining…' : 'Join the waitlist'}
        </button>
      </form>
    </section>
  );
}

// ------------------------------------------------------------------------------------------------ client

export function ClientWaitlistPage() {
  const zone = useMe().data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const offers = useOffers();
  const entries = useWaitlist();
  const therapists = useTherapists([
    ...(offers.data ?? []).map((o) => o.therapist_id),
    ...(entries.data ?? []).map((e) => e.therapist_id),
  ]);
  const claim = useClaimOffer();
  const leave = useLeaveWaitlist();
  const [claimed, setClaimed] = useState<Appointment | null>(null);
  const [left, setLeft] = useState<string | null>(null);

  return (
    <>
      <title>Waitlist · Hearth</title>
      <h1>Waitlist</h1>
      <p>
        When a session that matches your waitlist frees up, it is offered here for a short time. The first client to
        claim it books it.
      </p>

      <section aria-labelledby="offers-heading">
        <h2 id="offers-heading">Times offered to you</h2>
        <QueryState isPending={offers.isPending} error={offers.error} what="offers" />
        <StatusMessage className="success">
          {claimed && (
            <p>
              Booked: {formatDayLong(claimed.start, zone)} at {formatTime(claimed.start, zone)}.{' '}
              <Link to="/client/appointments">See my appointments</Link>
            </p>
          )}
        </StatusMessage>
        <ErrorAlert error={claim.error} />
        {offers.data && offers.data.length === 0 && <p>No open offers right now.</p>}
        {offers.data && offers.data.length > 0 && (
          <ul className="cards" aria-label="Offers">
            {offers.data.map((offer) => (
              <OfferCard
                key={offer.id}
                offer={offer}
                zone={zone}
                therapist={therapists.get(offer.therapist_id)}
                pending={claim.isPending}
                onClaim={() => {
                  setClaimed(null);
                  claim.mutate(offer.id, { onSuccess: setClaimed });
                }}
              />
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="entries-heading">
        <h2 id="entries-heading">Your waitlists</h2>
        <QueryState isPending={entries.isPending} error={entries.error} what="your waitlists" />
        <StatusMessage>{left && <p>You left {left}&rsquo;s waitlist.</p>}</StatusMessage>
        <ErrorAlert error={leave.error} />
        {entries.data && entries.data.length === 0 && (
          <p>
            You are on no waitlist. <Link to="/client/therapists">Find a therapist</Link> and join theirs from their
            page.
          </p>
        )}
        {entries.data && entries.data.length > 0 && (
          <ul className="cards" aria-label="Your waitlists">
            {entries.data.map((entry) => {
              const therapist = therapists.get(entry.therapist_id);
              const name = therapist?.display_name ?? 'this therapist';
              const d = describeEntry(entry);
              return (
                <li key={entry.id} className="card">
                  <h3 className="card-title">
                    <Link to={`/client/therapists/${entry.therapist_id}`}>{therapist?.display_name ?? 'Therapist'}</Link>
                  </h3>
                  <p>
                    {d.lengths} · {d.way}
                  </p>
                  <p>
                    {d.days} · {d.times} ({entry.timezone})
                  </p>
                  <p className="muted">Joined {formatDateTime(entry.created_at, zone)}</p>
                  <button
                    type="button"
                    className="secondary"
                    disabled={leave.isPending}
                    onClick={() => {
                      setLeft(null);
                      leave.mutate(entry.id, { onSuccess: () => setLeft(name) });
                    }}
                  >
                    Leave this waitlist<span className="visually-hidden"> of {name}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </>
  );
}

function OfferCard({
  offer,
  zone,
  therapist,
  pending,
  onClaim,
}: {
  offer: Offer;
  zone: string;
  therapist: PublicProfile | undefined;
  pending: boolean;
  onClaim: () => void;
}) {
  const theirZone = therapist?.timezone;
  return (
    <li className="card">
      <h3 className="card-title">
        {formatDayLong(offer.start, zone)}, {formatTime(offer.start, zone)}–{formatTime(offer.end, zone)}
      </h3>
      <p>
        {offer.duration_minutes} minutes · {modalityLabel(offer.modality)} · with {therapist?.display_name ?? 'your therapist'}
      </p>
      {theirZone && theirZone !== zone && (
        <p className="muted">
          {formatTime(offer.start, theirZone)} in {zoneCity(theirZone)} (therapist&rsquo;s time)
        </p>
      )}
      <p>
        <strong>Claim before {formatTime(offer.expires_at, zone)}</strong>
      </p>
      <button type="button" disabled={pending} onClick={onClaim}>
        Claim this time
      </button>
    </li>
  );
}

// ------------------------------------------------------------------------------------------------ therapist

export function TherapistWaitlistPage() {
  const entries = useWaitlist();
  const zone = useMe().data?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <>
      <title>Waitlist · Hearth</title>
      <h1>Waitlist</h1>
      <p>
        Clients waiting for a time with you, in the order they joined. When a session is cancelled, the freed time is
        offered to the matching clients automatically; the first to claim it books it.
      </p>
      <QueryState isPending={entries.isPending} error={entries.error} what="your waitlist" />
      {entries.data && entries.data.length === 0 && <p>Nobody is on your waitlist.</p>}
      {entries.data && entries.data.length > 0 && (
        <div className="table-scroll wide">
          <table>
            <caption>
              {entries.data.length} {entries.data.length === 1 ? 'client' : 'clients'} waiting. Days and times are in each
              client&rsquo;s own time zone.
            </caption>
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Joined</th>
                <th scope="col">Lengths</th>
                <th scope="col">How</th>
                <th scope="col">Days</th>
                <th scope="col">Times</th>
              </tr>
            </thead>
            <tbody>
              {entries.data.map((entry) => {
                const d = describeEntry(entry);
                return (
                  <tr key={entry.id}>
                    <th scope="row"><ClientName id={entry.client_id} /></th>
                    <td>{formatDateTime(entry.created_at, zone)}</td>
                    <td>{d.lengths}</td>
                    <td>{d.way}</td>
                    <td>{d.days}</td>
                    <td>
                      {d.times} ({entry.timezone})
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
