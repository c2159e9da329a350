import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { TextArea } from '../../components/TextArea';
import { formatDateTime, formatDayLong, formatTime, localDate, mondayOf, zoneCity } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { money } from '../billing/labels';
import { useCancellationTerms } from '../billing/queries';
import type { CancellationTerms } from '../billing/types';
import { ClientName } from '../clients/clientNames';
import { CallClientButton } from '../phone/CallClientButton';
import {
  STAFF_ACTION_LABELS,
  STAFF_TRANSITIONS,
  isCancelled,
  modalityLabel,
  statusLabel,
} from './labels';
import { StatusBadge } from './MyAppointmentsPage';
import {
  useAppointment,
  useCancelAppointment,
  useChangeAppointmentStatus,
  useRescheduleAppointment,
  useTherapist,
  useTherapistZone,
} from './queries';
import { lateFeeRefusal } from './schedulingApi';
import { SlotPicker } from './SlotPicker';
import type { Appointment, ChangeScope, Slot, StaffStatus } from './types';

type Viewer = 'client' | 'therapist';

export function ClientAppointmentPage() {
  const me = useMe().data;
  const zone = me?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return <AppointmentDetails viewer="client" zone={zone} />;
}

export function TherapistAppointmentPage() {
  return <AppointmentDetails viewer="therapist" zone={useTherapistZone()} />;
}

function AppointmentDetails({ viewer, zone }: { viewer: Viewer; zone: string }) {
  const { appointmentId } = useParams();
  const appointment = useAppointment(appointmentId);
  const [message, setMessage] = useState('');
  const messageRef = useRef<HTMLParagraphElement>(null);
  const a = appointment.data;
  // A cancel, a move or a status change removes the control that did it: the keyboard goes on from the result.
  useEffect(() => {
    if (message) messageRef.current?.focus();
  }, [message]);
  const backTo =
    viewer === 'client'
      ? { to: '/client/appointments', label: 'Back to my appointments' }
      : {
          to: a ? `/therapist/calendar?week=${mondayOf(localDate(a.start, zone))}` : '/therapist/calendar',
          label: 'Back to the calendar',
        };

  return (
    <>
      <title>Session details · Hearth</title>
      <p>
        <Link to={backTo.to}>{backTo.label}</Link>
      </p>
      <h1>Session details</h1>
      <QueryState isPending={appointment.isPending} error={appointment.error} what="the session" />
      <StatusMessage className="success">
        {message && (
          <p ref={messageRef} tabIndex={-1}>
            {message}
          </p>
        )}
      </StatusMessage>
      {a && (
        <>
          <Facts appointment={a} viewer={viewer} zone={zone} />
          {['booked', 'checked_in', 'in_progress'].includes(a.status) && (
            <p>
              <Link to={`/${viewer}/appointments/${a.id}/session`}>Go to the live session</Link>
            </p>
          )}
          {viewer === 'therapist' && <StatusActions appointment={a} onDone={setMessage} />}
          {viewer === 'therapist' &&
            a.modality === 'phone' &&
            ['booked', 'checked_in', 'in_progress'].includes(a.status) && <CallClientButton appointmentId={a.id} />}
          {viewer === 'therapist' && a.status === 'completed' && (
            <section aria-labelledby="note-heading">
              <h2 id="note-heading">Session note</h2>
              <p>
                <Link to={`/therapist/appointments/${a.id}/note`}>Write or open the session note</Link>
              </p>
            </section>
          )}
          {a.status === 'booked' && (
            <Reschedule appointment={a} viewer={viewer} zone={zone} onDone={setMessage} />
          )}
          {(a.status === 'booked' || a.status === 'checked_in') && (
            <CancelForm appointment={a} viewer={viewer} zone={zone} onDone={setMessage} />
          )}
        </>
      )}
    </>
  );
}

function Facts({ appointment: a, viewer, zone }: { appointment: Appointment; viewer: Viewer; zone: string }) {
  const therapist = useTherapist(viewer === 'client' ? a.therapist_id : undefined).data;
  const theirZone = viewer === 'client' ? therapist?.timezone : undefined;
  return (
    <dl className="facts">
      <dt>When{viewer === 'client' ? ' (your time)' : ''}</dt>
      <dd>
        {formatDayLong(a.start, zone)}, {formatTime(a.start, zone)}–{formatTime(a.end, zone)} ({zone})
      </dd>
      {theirZone && theirZone !== zone && (
        <>
          <dt>Therapist&rsquo;s time</dt>
          <dd>
            {formatDayLong(a.start, theirZone)}, {formatTime(a.start, theirZone)}–{formatTime(a.end, theirZone)} in{' '}
            {zoneCity(theirZone)}
          </dd>
        </>
      )}
      <dt>Length</dt>
      <dd>{a.duration_minutes} minutes</dd>
      <dt>How</dt>
      <dd>{modalityLabel(a.modality)}</dd>
      <dt>{viewer === 'client' ? 'Therapist' : 'Client'}</dt>
      <dd>{viewer === 'client' ? (therapist?.display_name ?? '…') : <ClientName id={a.client_id} />}</dd>
      <dt>Status</dt>
      <dd>
        <StatusBadge status={a.status} />
      </dd>
      {isCancelled(a.status) && a.cancelled_at && (
        <>
          <dt>Cancelled</dt>
          <dd>
            {formatDateTime(a.cancelled_at, zone)}
            {a.cancelled_by && ` by the ${a.cancelled_by}`}
            {a.late_cancellation && ', inside the cancellation window (late cancellation)'}
          </dd>
        </>
      )}
      {a.series_id && (
        <>
          <dt>Series</dt>
          <dd>Part of a recurring series</dd>
        </>
      )}
    </dl>
  );
}

function StatusActions({ appointment: a, onDone }: { appointment: Appointment; onDone: (message: string) => void }) {
  const change = useChangeAppointmentStatus();
  const targets = STAFF_TRANSITIONS[a.status];
  const started = Date.now() >= Date.parse(a.start);
  if (targets.length === 0) return null;
  // A completion is the session's end (the server settles and bills it as the live end does), which needs only
  // the session to be in progress; a no-show waits for the start.
  const needsStart = (status: StaffStatus) => status === 'no_show';
  return (
    <section aria-labelledby="status-heading">
      <h2 id="status-heading">Record progress</h2>
      {!started && targets.some(needsStart) && (
        <p className="hint" id="status-hint">
          A no-show can be recorded once the session has started.
        </p>
      )}
      <ErrorAlert error={change.error} />
      <div className="actions">
        {targets.map((status) => (
          <button
            key={status}
            type="button"
            className="secondary"
            disabled={change.isPending || (needsStart(status) && !started)}
            aria-describedby={needsStart(status) && !started ? 'status-hint' : undefined}
            onClick={() =>
              change.mutate(
                { id: a.id, status },
                { onSuccess: (updated) => onDone(`Status is now: ${statusLabel(updated.status)}.`) },
              )
            }
          >
            {STAFF_ACTION_LABELS[status]}
          </button>
        ))}
      </div>
    </section>
  );
}

/** For a session of a recurring series: change it alone, or it and every later one. */
function ScopeChoice({ name, scope, onChange, verb }: { name: string; scope: ChangeScope; onChange: (scope: ChangeScope) => void; verb: string }) {
  return (
    <fieldset>
      <legend>{verb} which sessions of the series?</legend>
      <label className="choice">
        <input type="radio" name={name} checked={scope === 'this'} onChange={() => onChange('this')} /> Only this
        session
      </label>
      <label className="choice">
        <input
          type="radio"
          name={name}
          checked={scope === 'this_and_following'}
          onChange={() => onChange('this_and_following')}
        />{' '}
        This and all later sessions
      </label>
    </fieldset>
  );
}

function Reschedule({
  appointment: a,
  viewer,
  zone,
  onDone,
}: {
  appointment: Appointment;
  viewer: Viewer;
  zone: string;
  onDone: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState<Slot | null>(null);
  const [scope, setScope] = useState<ChangeScope>('this');
  const move = useRescheduleAppointment();
  const navigate = useNavigate();
  const confirmHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (choice) confirmHeading.current?.focus();
  }, [choice]);

  return (
    <section aria-labelledby="reschedule-heading">
      <h2 id="reschedule-heading">Reschedule</h2>
      {!open ? (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onDone('');
            setOpen(true);
          }}
        >
          Find a new time
        </button>
      ) : (
        <>
          <p>
            Same length ({a.duration_minutes} minutes) and the same way to meet ({modalityLabel(a.modality).toLowerCase()}).
            Your current time stays booked until the new one is confirmed.
          </p>
          {a.series_id && (
            <ScopeChoice
              name="reschedule-scope"
              verb="Move"
              scope={scope}
              onChange={(next) => {
                setScope(next);
                move.reset();
              }}
            />
          )}
          {choice && (
            <div className="confirm">
              <h3 ref={confirmHeading} tabIndex={-1}>
                Move to {formatDayLong(choice.start, zone)}, {formatTime(choice.start, zone)}
                {scope === 'this_and_following' && ' (and every later session to the same weekday and time)'}?
              </h3>
              <ErrorAlert error={move.error} />
              <div className="actions">
                <button
                  type="button"
                  disabled={move.isPending}
                  onClick={() =>
                    move.mutate(
                      { id: a.id, start: choice.start, scope },
                      {
                        onSuccess: (moved) => {
                          setChoice(null);
                          setOpen(false);
                          const when = `${formatDayLong(moved.start, zone)}, ${formatTime(moved.start, zone)}`;
                          if (moved.id === a.id) {
                            onDone(`Session moved to ${when}.`);
                            return;
                          }
                          // Moving "this and following" replaces the sessions with a new series: show its first one.
                          onDone(`Sessions moved: the series now continues from ${when}.`);
                          navigate(`/${viewer}/appointments/${moved.id}`, { replace: true });
                        },
                        onError: () => setChoice(null),
                      },
                    )
                  }
                >
                  {move.isPending ? 'Moving…' : 'Move session'}
                </button>
                <button type="button" className="secondary" onClick={() => setChoice(null)}>
                  Choose another time
                </button>
              </div>
            </div>
          )}
          {!choice && <ErrorAlert error={move.error} />}
          <SlotPicker
            therapistId={a.therapist_id}
            durationMinutes={a.duration_minutes}
            modality={a.modality}
            viewerZone={zone}
            showTherapistZone={viewer === 'client'}
            heading="Choose a new time"
            headingLevel={3}
            selected={choice?.start ?? null}
            onSelect={(slot) => {
              move.reset();
              setChoice(slot);
            }}
          />
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setChoice(null);
              setOpen(false);
            }}
          >
            Keep the current time
          </button>
        </>
      )}
    </section>
  );
}

function CancelForm({
  appointment: a,
  viewer,
  zone,
  onDone,
}: {
  appointment: Appointment;
  viewer: Viewer;
  zone: string;
  onDone: (message: string) => void;
}) {
  const cancel = useCancelAppointment();
  const [scope, setScope] = useState<ChangeScope>('this');
  // Only a client's cancellation can be late (and cost them a fee).
  const terms = useCancellationTerms(a.id, viewer === 'client');
  // A late cancellation waiting for the client to accept its fee: the fee shown is the one sent as accepted.
  // `refused`: the server asked (the window closed, or the fee changed, since the client last looked).
  const [pending, setPending] = useState<{
    reason: string;
    terms: CancellationTerms;
    fee: CancellationTerms['late_cancellation_fee'];
    refused: boolean;
  } | null>(null);
  const confirmHeading = useRef<HTMLHeadingElement>(null);
  const confirmText = useId();

  // Focus moves to the confirmation whenever it opens or the server changes what it asks (a new object); the
  // heading is described by the terms, so they are read out with it.
  useEffect(() => {
    if (pending) confirmHeading.current?.focus();
  }, [pending]);

  function send(reason: string, acceptLateFee: CancellationTerms['late_cancellation_fee'] = null) {
    cancel.mutate(
      { id: a.id, reason, scope, acceptLateFee },
      {
        onSuccess: (cancelled) => {
          setPending(null);
          onDone(
            scope === 'this_and_following'
              ? 'This session and all later sessions of the series are cancelled.'
              : cancelled.late_cancellation
                ? 'Session cancelled. It was inside the cancellation window, so it is recorded as a late cancellation.'
                : 'Session cancelled.',
          );
        },
        onError: (error) => {
          // Late now, at a fee the client has not accepted: show that fee and ask again, nothing was cancelled.
          const refusal = lateFeeRefusal(error);
          if (refusal) setPending({ reason, terms: refusal.terms, fee: refusal.fee, refused: true });
          else setPending(null);
        },
      },
    );
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget).get('reason') ?? '').trim();
    if (viewer !== 'client') {
      send(reason);
      return;
    }
    // Asked now, not when the page opened: the window may have been crossed since.
    const fresh = await terms.refetch();
    if (!fresh.data) return; // the error is shown
    if (fresh.data.late_now) {
      setPending({ reason, terms: fresh.data, fee: fresh.data.late_cancellation_fee, refused: false });
    } else send(reason);
  }

  const fee = pending?.fee;
  // The refusal that opened the confirmation is not an error to show: the confirmation says what it means.
  const error = lateFeeRefusal(cancel.error) ? null : cancel.error;
  return (
    <section aria-labelledby="cancel-heading">
      <h2 id="cancel-heading">Cancel</h2>
      {pending ? (
        <div className="confirm">
          <h3 ref={confirmHeading} tabIndex={-1} aria-describedby={confirmText}>
            Cancel this late?
          </h3>
          <p id={confirmText}>
            {pending.refused && 'Nothing was cancelled yet: the cancellation window has closed since you looked. '}
            It is less than {pending.terms.window_hours} {pending.terms.window_hours === 1 ? 'hour' : 'hours'} before
            the session, so this is a late cancellation.{' '}
            {fee
              ? `Under the cancellation policy you accepted when booking, it costs ${money(fee)}: an invoice for it is sent to you.`
              : 'The policy you accepted charges no fee for it.'}
          </p>
          <ErrorAlert error={error} />
          <div className="actions">
            <button type="button" className="danger" disabled={cancel.isPending} onClick={() => send(pending.reason, fee)}>
              {cancel.isPending ? 'Cancelling…' : fee ? `Cancel and pay ${money(fee)}` : 'Cancel late'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                cancel.reset();
                setPending(null);
              }}
            >
              Keep the session
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={(e) => void onSubmit(e)} aria-labelledby="cancel-heading">
          {viewer === 'client' && terms.data && <CancellationHint terms={terms.data} zone={zone} />}
          {a.series_id && <ScopeChoice name="cancel-scope" verb="Cancel" scope={scope} onChange={setScope} />}
          <TextArea
            label="Reason (optional)"
            name="reason"
            maxLength={500}
            rows={2}
            hint="Kept with the session's record."
          />
          <ErrorAlert error={error ?? terms.error} />
          <button type="submit" className="danger" disabled={cancel.isPending || terms.isFetching}>
            {cancel.isPending ? 'Cancelling…' : scope === 'this' ? 'Cancel session' : 'Cancel these sessions'}
          </button>
        </form>
      )}
    </section>
  );
}

/** The client's terms before they decide: until when cancelling is free, and what it costs after. */
function CancellationHint({ terms, zone }: { terms: CancellationTerms; zone: string }) {
  const fee = terms.late_cancellation_fee;
  const cost = fee ? `costs ${money(fee)}` : 'costs nothing, but is recorded as a late cancellation';
  return (
    <p className="hint">
      {terms.late_now
        ? `Cancelling now is a late cancellation: it ${cost}.`
        : `Cancelling is free until ${formatDayLong(terms.late_from, zone)}, ${formatTime(terms.late_from, zone)}; after that it ${cost}.`}
    </p>
  );
}
