import { Link } from 'react-router';
import { ApiError } from '../../api/problem';
import { ErrorAlert } from '../../components/ErrorAlert';
import { isLive, STATUS_TEXT, useHangUp, usePhoneCall, usePlaceCall } from './phoneCalls';

function minutes(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * The therapist's "Call client" control for one session: Hearth rings the therapist first, then the client, from
 * the practice's number. Self-contained (its own queries), so the call screen and the session page can both use it.
 */
export function CallClientButton({ appointmentId, settingsPath = '/therapist/settings' }: {
  appointmentId: string;
  settingsPath?: string;
}) {
  const call = usePhoneCall(appointmentId);
  const place = usePlaceCall(appointmentId);
  const hangUp = useHangUp(appointmentId);
  const current = call.data;
  const live = isLive(current);
  const error = place.error ?? hangUp.error ?? call.error;
  const code = error instanceof ApiError ? error.code : null;

  return (
    <section aria-labelledby={`phone-${appointmentId}`} className="phone-call">
      <h2 id={`phone-${appointmentId}`}>Phone call</h2>
      <p>Hearth calls you first, then your client, from the practice's number. Neither of you sees the other's number.</p>
      <p role="status" aria-live="polite" data-testid="phone-call-status">
        {current ? STATUS_TEXT[current.status] : 'No call yet.'}
        {current?.duration_seconds != null && ` · ${minutes(current.duration_seconds)} connected`}
      </p>
      {live ? (
        <button type="button" onClick={() => hangUp.mutate()} disabled={hangUp.isPending}>
          {hangUp.isPending ? 'Hanging up…' : 'Hang up'}
        </button>
      ) : (
        <button type="button" onClick={() => place.mutate()} disabled={place.isPending || call.isPending}>
          {place.isPending ? 'Calling…' : current ? 'Call client again' : 'Call client'}
        </button>
      )}
      <ErrorAlert error={error} />
      {code === 'therapist_phone_missing' && (
        <p>
          <Link to={settingsPath}>Add your phone number in Settings</Link>
        </p>
      )}
    </section>
  );
}
