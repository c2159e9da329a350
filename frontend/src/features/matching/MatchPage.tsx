import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDateTime } from '../../lib/time';
import { useCurrentMe } from '../auth/useAuth';
import { useAppointments, useTherapists } from '../scheduling/queries';
import { chooseTherapist, requestMatch } from './matchingApi';
import type { MatchMode, MatchOut, Suggestion } from './types';

function SuggestionCard({ suggestion, zone, onChoose, busy }: {
  suggestion: Suggestion;
  zone: string;
  onChoose: () => void;
  busy: boolean;
}) {
  const headingId = `suggestion-${suggestion.therapist_id}`;
  return (
    <article className="card" aria-labelledby={headingId}>
      <h3 id={headingId}>{suggestion.display_name}</h3>
      <p>Match score {suggestion.score.toFixed(1)} of 100</p>
      <h4>Why we suggest them</h4>
      <ul aria-label={`Reasons for ${suggestion.display_name}`}>
        {suggestion.reasons.map((reason) => (
          <li key={reason.kind + reason.text}>{reason.text}</li>
        ))}
      </ul>
      <h4>Next open times</h4>
      {suggestion.next_open.length === 0 ? (
        <p>No open times that fit yours in the next two weeks.</p>
      ) : (
        <ul aria-label={`Next open times with ${suggestion.display_name}`}>
          {suggestion.next_open.map((slot) => (
            <li key={slot.start}>{formatDateTime(slot.start, zone)}</li>
          ))}
        </ul>
      )}
      <button type="button" onClick={onChoose} disabled={busy}>
        Choose {suggestion.display_name}
      </button>
    </article>
  );
}

/** What is about to end a client's current care: a chosen suggestion, or an automatic assignment. */
type Switch = { kind: 'automatic' } | { kind: 'choice'; match: MatchOut; suggestion: Suggestion };

/** Suggestions after the intake: the top three with reasons and open times, or automatic assignment; choosing one
 * starts care (and, for a client who already has a therapist, switches in one step, once they confirm). */
export function MatchPage() {
  // Whether the client is in care decides whether a choice ends that care, so ask the server, not an old copy.
  const meQuery = useCurrentMe();
  const me = meQuery.data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const queryClient = useQueryClient();
  const [pendingSwitch, setPendingSwitch] = useState<Switch | null>(null);
  const [chosen, setChosen] = useState<{ name: string; switched: boolean; transferred: boolean } | null>(null);
  const done = (result: MatchOut, name: string) => {
    setPendingSwitch(null);
    setChosen({ name, switched: result.previous_therapist_id !== null, transferred: result.records_transferred });
    void queryClient.invalidateQueries();
  };
  const ask = useMutation({
    mutationFn: ({ mode, transfer }: { mode: MatchMode; transfer?: boolean }) => requestMatch(mode, transfer),
    onSuccess: (result, { mode }) => {
      if (mode === 'automatic') done(result, result.suggestions[0]?.display_name ?? 'your new therapist');
    },
  });
  const choose = useMutation({
    mutationFn: ({ match, suggestion, transfer }: { match: MatchOut; suggestion: Suggestion; transfer: boolean }) =>
      chooseTherapist(match.id, suggestion.therapist_id, transfer),
    onSuccess: (result, { suggestion }) => done(result, suggestion.display_name),
  });
  const match = ask.data;
  const inCare = Boolean(me?.practice_id);
  // Nothing that could switch runs on a stale answer to "am I in care?".
  const unsure = meQuery.isFetching;
  const needsIntake = ask.error instanceof ApiError && ask.error.code === 'intake_required';

  function automatic() {
    ask.reset();
    if (inCare) setPendingSwitch({ kind: 'automatic' });
    else ask.mutate({ mode: 'automatic' });
  }

  function pick(m: MatchOut, suggestion: Suggestion) {
    choose.reset();
    if (inCare) setPendingSwitch({ kind: 'choice', match: m, suggestion });
    else choose.mutate({ match: m, suggestion, transfer: false });
  }

  if (chosen) {
    return (
      <>
        <title>Matched · Hearth</title>
        <h1>You are matched</h1>
        <p role="status">
          You are now working with {chosen.name}.
          {chosen.switched &&
            ` Your care with your previous therapist has ended${chosen.transferred ? ' and your therapy plan moved with you' : ''}.`}{' '}
          They sent you a welcome message.
        </p>
        <p>
          <Link to="/client/messages">Read your messages</Link>
        </p>
      </>
    );
  }
  if (match && match.status === 'chosen') {
    return (
      <>
        <h1>You are matched</h1>
        <p role="status">We found your therapist. They sent you a welcome message.</p>
        <p>
          <Link to="/client/messages">Read your messages</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <title>Your matches · Hearth</title>
      <h1>{inCare ? 'Switch therapist' : 'Your matches'}</h1>
      <p>
        {inCare
          ? 'New suggestions leave out your current therapist. Choosing one ends your current care in one step; you confirm it first.'
          : 'Therapists licensed where you live, with room for you, who fit your answers.'}{' '}
        <Link to="/client/intake">Change my answers</Link>
      </p>
      <div className="actions">
        <button type="button" onClick={() => ask.mutate({ mode: 'suggest' })} disabled={ask.isPending || unsure}>
          Show my best matches
        </button>
        <button type="button" onClick={automatic} disabled={ask.isPending || unsure}>
          Match me automatically
        </button>
      </div>
      {needsIntake ? (
        <p role="alert">
          First <Link to="/client/intake">answer the intake questionnaire</Link>.
        </p>
      ) : (
        !pendingSwitch && <ErrorAlert error={ask.error ?? choose.error} />
      )}
      {pendingSwitch && (
        <ConfirmSwitch
          target={pendingSwitch.kind === 'choice' ? pendingSwitch.suggestion.display_name : null}
          zone={zone}
          busy={ask.isPending || choose.isPending}
          error={ask.error ?? choose.error}
          onCancel={() => {
            ask.reset();
            choose.reset();
            setPendingSwitch(null);
          }}
          onConfirm={(transfer) =>
            pendingSwitch.kind === 'automatic'
              ? ask.mutate({ mode: 'automatic', transfer })
              : choose.mutate({ match: pendingSwitch.match, suggestion: pendingSwitch.suggestion, transfer })
          }
        />
      )}
      {match && match.suggestions.length === 0 && <p>Nobody with room fits your answers right now.</p>}
      {match && match.suggestions.length > 0 && (
        <section aria-labelledby="suggestions-heading">
          <h2 id="suggestions-heading">Suggested therapists</h2>
          {match.suggestions.map((suggestion) => (
            <SuggestionCard
              key={suggestion.therapist_id}
              suggestion={suggestion}
              zone={zone}
              busy={choose.isPending || unsure}
              onChoose={() => pick(match, suggestion)}
            />
          ))}
        </section>
      )}
    </>
  );
}

/**
 * Says what a switch does before it happens, with the choice to move the plan: care with the current therapist
 * ends, their future sessions are cancelled by the practice (never late, no fee) and the conversation closes.
 */
function ConfirmSwitch({
  target,
  zone,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  target: string | null;
  zone: string;
  busy: boolean;
  error: unknown;
  onConfirm: (transfer: boolean) => void;
  onCancel: () => void;
}) {
  const [transfer, setTransfer] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const now = useMemo(() => new Date().toISOString(), []);
  const appointments = useAppointments({ start: now });
  const upcoming = (appointments.data ?? []).filter((a) => a.status === 'booked' || a.status === 'checked_in');
  const therapists = useTherapists(upcoming.map((a) => a.therapist_id));
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby="switch-heading" className="confirm">
      <h2 id="switch-heading" ref={heading} tabIndex={-1}>
        {target ? `Switch to ${target}?` : 'Switch to the best match automatically?'}
      </h2>
      <p>You already have a therapist. Switching ends that care in one step:</p>
      <ul>
        <li>Your care with your current therapist ends, and your conversation with them becomes read-only.</li>
        <li>
          {appointments.isPending
            ? 'Checking your upcoming sessions…'
            : upcoming.length === 0
              ? 'You have no upcoming sessions to cancel.'
              : `${upcoming.length === 1 ? 'Your upcoming session' : `Your ${upcoming.length} upcoming sessions`} will be cancelled, at no charge: a switch is never a late cancellation.`}
        </li>
      </ul>
      {upcoming.length > 0 && (
        <ul aria-label="Sessions that will be cancelled">
          {upcoming.map((a) => (
            <li key={a.id}>
              {formatDateTime(a.start, zone)} with {therapists.get(a.therapist_id)?.display_name ?? 'your therapist'}
            </li>
          ))}
        </ul>
      )}
      <label className="checkbox">
        <input type="checkbox" checked={transfer} onChange={(event) => setTransfer(event.target.checked)} /> Move my
        therapy plan to my new therapist
      </label>
      <p className="hint">Without this your plan stays with your current therapist, and your new therapist starts afresh.</p>
      <ErrorAlert error={error} />
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={() => onConfirm(transfer)}>
          {busy ? 'Switching…' : 'Switch therapist'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Keep my therapist
        </button>
      </div>
    </section>
  );
}
