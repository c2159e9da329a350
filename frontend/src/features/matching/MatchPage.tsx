import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDateTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
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

/** Suggestions after the intake: the top three with reasons and open times, or automatic assignment; choosing one
 * starts care (and, for a client who already has a therapist, switches in one step). */
export function MatchPage() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const queryClient = useQueryClient();
  const [transfer, setTransfer] = useState(false);
  const [chosen, setChosen] = useState<{ name: string; switched: boolean } | null>(null);
  const ask = useMutation({ mutationFn: (mode: MatchMode) => requestMatch(mode) });
  const choose = useMutation({
    mutationFn: ({ match, suggestion }: { match: MatchOut; suggestion: Suggestion }) =>
      chooseTherapist(match.id, suggestion.therapist_id, transfer),
    onSuccess: (result, { suggestion }) => {
      setChosen({ name: suggestion.display_name, switched: result.previous_therapist_id !== null });
      void queryClient.invalidateQueries();
    },
  });
  const match = ask.data;
  const inCare = Boolean(me?.practice_id);
  const needsIntake = ask.error instanceof ApiError && ask.error.code === 'intake_required';

  if (chosen) {
    return (
      <>
        <title>Matched · Hearth</title>
        <h1>You are matched</h1>
        <p role="status">
          You are now working with {chosen.name}.{chosen.switched ? ' Your care with your previous therapist has ended.' : ''}{' '}
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
          ? 'New suggestions leave out your current therapist. Choosing one ends your current care in one step: future sessions are cancelled and your conversation becomes read-only.'
          : 'Therapists licensed where you live, with room for you, who fit your answers.'}{' '}
        <Link to="/client/intake">Change my answers</Link>
      </p>
      {inCare && (
        <label className="checkbox">
          <input type="checkbox" checked={transfer} onChange={(event) => setTransfer(event.target.checked)} /> Move my
          therapy plan to my new therapist
        </label>
      )}
      <div className="actions">
        <button type="button" onClick={() => ask.mutate('suggest')} disabled={ask.isPending}>
          Show my best matches
        </button>
        <button type="button" onClick={() => ask.mutate('automatic')} disabled={ask.isPending}>
          Match me automatically
        </button>
      </div>
      {needsIntake ? (
        <p role="alert">
          First <Link to="/client/intake">answer the intake questionnaire</Link>.
        </p>
      ) : (
        <ErrorAlert error={ask.error ?? choose.error} />
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
              busy={choose.isPending}
              onChoose={() => choose.mutate({ match, suggestion })}
            />
          ))}
        </section>
      )}
    </>
  );
}
