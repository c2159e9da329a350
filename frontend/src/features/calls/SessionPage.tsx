import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDayLong, formatTime, zoneCity } from '../../lib/time';
import { useViewerZone } from '../auth/useViewerZone';
import {
  admit,
  callClientByPhone,
  checkIn,
  endSession,
  fetchIceServers,
  fetchSession,
  setAutoAdmit,
  stepDown,
  type CheckInBody,
  type Session,
} from './callApi';
import { CallClient } from './callClient';
import './calls.css';

type Viewer = 'client' | 'therapist';

export function ClientSessionPage() {
  return <SessionPage viewer="client" />;
}

export function TherapistSessionPage() {
  return <SessionPage viewer="therapist" />;
}

/** The live session: pre-call check, check-in (client), waiting room / admit (therapist), then the call. */
function SessionPage({ viewer }: { viewer: Viewer }) {
  const { appointmentId = '' } = useParams();
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [iceServers, setIceServers] = useState<RTCIceServer[] | null>(null);
  const [inCall, setInCall] = useState(false);
  // The preview stream handed to the call: the call stops its tracks when it ends or is left, the preview does not.
  const handedToCall = useRef<MediaStream | null>(null);

  const [iceError, setIceError] = useState<unknown>(null);
  const opensAt = session ? Date.parse(session.window.opens_at) : null;
  const open = useOpened(opensAt);

  useEffect(() => {
    let live = true;
    const load = () =>
      fetchSession(appointmentId)
        .then((s) => {
          if (!live) return;
          setSession(s);
          setError(null); // one failed poll is not the page's state for good
        })
        .catch((e: unknown) => live && setError(e));
    void load();
    // The waiting room hears of admission over the call socket once joined; before that, poll gently.
    const timer = setInterval(() => void load(), 3_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [appointmentId]);

  // ICE servers (short-lived credentials) once the session is open, retried until they come.
  useEffect(() => {
    if (!open || iceServers) return;
    let live = true;
    const load = () =>
      fetchIceServers(appointmentId)
        .then((r) => {
          if (!live) return;
          setIceServers(r.ice_servers.map((s) => ({ urls: s.urls, username: s.username ?? undefined, credential: s.credential ?? undefined })));
          setIceError(null);
        })
        .catch((e: unknown) => live && setIceError(e));
    void load();
    const timer = setInterval(() => void load(), 5_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [appointmentId, open, iceServers]);

  const back = viewer === 'client' ? `/client/appointments/${appointmentId}` : `/therapist/appointments/${appointmentId}`;
  const chat = session?.modality === 'chat';
  return (
    <>
      <title>Live session · Hearth</title>
      <p>
        <Link to={back}>Back to the session details</Link>
      </p>
      <h1>Live session</h1>
      <ErrorAlert error={error ?? iceError} />
      {!session ? (
        <p role="status">Loading…</p>
      ) : session.ended_at ? (
        <p role="status">This session has ended.</p>
      ) : !open ? (
        <>
          <OpensAt opensAt={session.window.opens_at} start={session.start} />
          {viewer === 'therapist' && <AdmitControl session={session} onSession={setSession} />}
        </>
      ) : chat ? (
        <ChatOnly viewer={viewer} session={session} onSession={setSession} />
      ) : session.modality === 'phone' ? (
        <PhoneCall viewer={viewer} session={session} onStepDown={setSession} />
      ) : inCall && stream && iceServers ? (
        <CallScreen viewer={viewer} session={session} stream={stream} iceServers={iceServers} onSession={setSession} onLeft={() => setInCall(false)} />
      ) : (
        <>
          <PreCallCheck
            iceServers={iceServers}
            onStream={setStream}
            handedToCall={handedToCall}
            audioOnly={session.modality === 'audio'}
          />
          {viewer === 'client' && !session.checked_in && (
            <CheckInForm appointmentId={appointmentId} known={session.known_emergency_contact} onDone={setSession} />
          )}
          {viewer === 'client' && session.waiting && (
            <p role="status" className="waiting">
              You are in the waiting room. Your therapist will let you in shortly.
            </p>
          )}
          {viewer === 'therapist' && <AdmitControl session={session} onSession={setSession} />}
          {(viewer === 'therapist' || session.admitted) && (
            <button
              type="button"
              disabled={!stream || !iceServers}
              onClick={() => {
                handedToCall.current = stream;
                setInCall(true);
              }}
            >
              Join the call
            </button>
          )}
        </>
      )}
    </>
  );
}

/** Whether the instant has passed, by this device's clock; re-renders when it passes. */
function useOpened(at: number | null): boolean {
  const [now, setNow] = useState(() => Date.now());
  const opened = at !== null && now >= at;
  useEffect(() => {
    if (at === null || opened) return;
    // Timers longer than ~24.8 days overflow; and a sleeping laptop's timer fires late: wake at least every minute.
    const timer = setTimeout(() => setNow(Date.now()), Math.min(Math.max(at - Date.now(), 0) + 50, 60_000));
    return () => clearTimeout(timer);
  }, [at, opened, now]);
  return opened;
}

/** Before the join window: when it opens, in the viewer's zone. No camera, no check-in yet. */
function OpensAt({ opensAt, start }: { opensAt: string; start: string }) {
  const zone = useViewerZone();
  const early = Math.round((Date.parse(start) - Date.parse(opensAt)) / 60_000);
  return (
    <p role="status" className="opens-at">
      Opens at {formatTime(opensAt, zone)} on {formatDayLong(opensAt, zone)} ({zoneCity(zone)} time), {early} minutes before the
      start. This page switches on your camera and opens the check-in then: keep it open or come back.
    </p>
  );
}

function ChatOnly({ viewer, session, onSession }: { viewer: Viewer; session: Session; onSession: (s: Session) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [ending, setEnding] = useState(false);
  const reason = session.check_in?.private === false ? ' (the client is not alone today)' : '';
  // The conversation is the room: once the client has checked in, the therapist can end the chat session.
  const endable = viewer === 'therapist' && session.checked_in && (session.status === 'checked_in' || session.status === 'in_progress');
  return (
    <section aria-labelledby="chat-heading">
      <h2 id="chat-heading">Chat session</h2>
      <ErrorAlert error={error} />
      <p role="status">This session continues as chat{reason}. Same session, same time.</p>
      <p>
        <Link to={`/${viewer}/messages`}>Open your messages</Link>
      </p>
      {viewer === 'therapist' && <AdmitControl session={session} onSession={() => undefined} />}
      {endable && (
        <button
          type="button"
          disabled={ending}
          onClick={() => {
            setEnding(true);
            endSession(session.appointment_id)
              .then(onSession)
              .catch(setError)
              .finally(() => setEnding(false));
          }}
        >
          End session
        </button>
      )}
    </section>
  );
}

/** Phone sessions and the phone step-down: the platform calls the therapist, then the client, and bridges them. */
function PhoneCall({ viewer, session, onStepDown }: { viewer: Viewer; session: Session; onStepDown: (s: Session) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [calling, setCalling] = useState(false);
  const phoneEvents = session.events.filter((e) => e.kind === 'phone_status');
  const last = phoneEvents.at(-1)?.detail;
  return (
    <section aria-labelledby="phone-heading">
      <h2 id="phone-heading">Phone call</h2>
      <ErrorAlert error={error} />
      <p role="status">
        {viewer === 'therapist'
          ? 'Hearth calls you first, then your client, and connects you. Neither of you sees the other\'s number.'
          : 'Your therapist will be connected with you by phone: Hearth will call you.'}
        {last && ` Call status: ${last.replace('_', ' ')}.`}
      </p>
      {viewer === 'therapist' && (
        <>
          {session.licence_warning && (
            <p role="alert" className="warning">
              Licence warning: {session.licence_warning}
            </p>
          )}
          <button
            type="button"
            disabled={calling}
            onClick={() => {
              setCalling(true);
              callClientByPhone(session.appointment_id)
                .catch(setError)
                .finally(() => setCalling(false));
            }}
          >
            Call client
          </button>
        </>
      )}
      <button
        type="button"
        onClick={() => void stepDown(session.appointment_id, 'chat').then(onStepDown).catch(setError)}
      >
        Switch to chat
      </button>
      {viewer === 'therapist' && session.status === 'in_progress' && (
        <button type="button" onClick={() => void endSession(session.appointment_id).then(onStepDown).catch(setError)}>
          End session
        </button>
      )}
    </section>
  );
}

/**
 * Camera and microphone preview with a level meter, device choice and a connectivity test against the ICE servers.
 * The preview owns its stream: a new device choice stops the old stream's tracks, and so does leaving the page,
 * unless the stream was handed to the call (`handedToCall`), which then stops them itself.
 */
function PreCallCheck({
  iceServers,
  onStream,
  handedToCall,
  audioOnly,
}: {
  iceServers: RTCIceServer[] | null;
  onStream: (s: MediaStream | null) => void;
  handedToCall: React.RefObject<MediaStream | null>;
  audioOnly: boolean;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [camera, setCamera] = useState('');
  const [mic, setMic] = useState('');
  const [level, setLevel] = useState(0);
  const [problem, setProblem] = useState('');
  const [connectivity, setConnectivity] = useState('not tested');

  useEffect(() => {
    let frame = 0;
    let context: AudioContext | null = null;
    let cancelled = false;
    let stream: MediaStream | null = null;
    navigator.mediaDevices
      .getUserMedia({
        audio: mic ? { deviceId: { exact: mic } } : true,
        video: audioOnly ? false : camera ? { deviceId: { exact: camera } } : true,
      })
      .then(async (s) => {
        if (cancelled) return s.getTracks().forEach((t) => t.stop());
        stream = s;
        onStream(s);
        if (video.current) video.current.srcObject = s;
        setDevices(await navigator.mediaDevices.enumerateDevices());
        context = new AudioContext();
        const analyser = context.createAnalyser();
        context.createMediaStreamSource(s).connect(analyser);
        const data = new Uint8Array(analyser.fftSize);
        const tick = () => {
          analyser.getByteTimeDomainData(data);
          let peak = 0;
          for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
          setLevel(Math.round((peak / 128) * 100));
          frame = requestAnimationFrame(tick);
        };
        tick();
      })
      .catch((e: unknown) => setProblem(`Camera or microphone unavailable: ${e instanceof Error ? e.message : String(e)}`));
    return () => {
      cancelled = true;
      cancelAnimationFrame(frame);
      void context?.close();
      if (stream && stream !== handedToCall.current) {
        stream.getTracks().forEach((t) => t.stop());
        onStream(null);
      }
    };
    // onStream (a state setter) and handedToCall (a ref) are stable.
  }, [camera, mic, audioOnly]);

  const testConnectivity = async () => {
    if (!iceServers) return;
    setConnectivity('testing…');
    const pc = new RTCPeerConnection({ iceServers });
    const kinds = new Set<string>();
    pc.onicecandidate = ({ candidate }) => candidate?.type && kinds.add(candidate.type);
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve(null);
      setTimeout(resolve, 4_000);
    });
    pc.close();
    setConnectivity(kinds.size ? `ok (${[...kinds].join(', ')} candidates)` : 'no candidates: check your network');
  };

  return (
    <section aria-labelledby="check-heading" className="precall">
      <h2 id="check-heading">Before you join</h2>
      {problem && <p role="alert">{problem}</p>}
      {!audioOnly && <video ref={video} autoPlay muted playsInline aria-label="Your camera preview" className="preview" />}
      <label>
        Microphone level
        <meter min={0} max={100} value={level} aria-label="Microphone level" />
      </label>
      {!audioOnly && (
        <label>
          Camera
          <select value={camera} onChange={(e) => setCamera(e.target.value)}>
            <option value="">Default camera</option>
            {devices.filter((d) => d.kind === 'videoinput').map((d) => (
              <option key={d.deviceId} value={d.deviceId}>{d.label || d.deviceId}</option>
            ))}
          </select>
        </label>
      )}
      <label>
        Microphone
        <select value={mic} onChange={(e) => setMic(e.target.value)}>
          <option value="">Default microphone</option>
          {devices.filter((d) => d.kind === 'audioinput').map((d) => (
            <option key={d.deviceId} value={d.deviceId}>{d.label || d.deviceId}</option>
          ))}
        </select>
      </label>
      <p>
        <button type="button" onClick={() => void testConnectivity()} disabled={!iceServers}>
          Test connectivity
        </button>{' '}
        <span role="status">Connectivity: {connectivity}</span>
      </p>
    </section>
  );
}

function CheckInForm({
  appointmentId,
  known,
  onDone,
}: {
  appointmentId: string;
  known: Session['known_emergency_contact'];
  onDone: (s: Session) => void;
}) {
  const [country, setCountry] = useState('US');
  const [region, setRegion] = useState('');
  const [atHome, setAtHome] = useState(true);
  const [name, setName] = useState(known?.name ?? '');
  const [phone, setPhone] = useState(known?.phone ?? '');
  // Confirming the contact given last time is the common case; any change counts as an update.
  const updated = !known || known.name !== name.trim() || known.phone !== phone.trim();
  const [place, setPlace] = useState<'private' | 'not_alone'>('private');
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (sending) return;
    const body: CheckInBody = {
      country: country.trim().toUpperCase(),
      region: region.trim() ? region.trim().toUpperCase() : null,
      at_home: atHome,
      emergency_contact: { name: name.trim(), phone: phone.trim() },
      emergency_contact_updated: updated,
      private: place === 'private',
    };
    setSending(true);
    setError(null);
    try {
      onDone(await checkIn(appointmentId, body));
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="checkin-heading">
      <h2 id="checkin-heading">Safety check-in</h2>
      <ErrorAlert error={error} />
      <label>
        Country (where you are now)
        <input value={country} onChange={(e) => setCountry(e.target.value)} maxLength={2} required />
      </label>
      <label>
        State or region
        <input value={region} onChange={(e) => setRegion(e.target.value)} maxLength={3} />
      </label>
      <label>
        <input type="checkbox" checked={atHome} onChange={(e) => setAtHome(e.target.checked)} /> I am at home
      </label>
      <fieldset>
        <legend>Emergency contact</legend>
        <label>
          Contact name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Contact phone
          <input value={phone} onChange={(e) => setPhone(e.target.value)} placeholder="+12125550100" required />
        </label>
        <p>{known ? (updated ? 'You are updating your emergency contact.' : 'Is this still right? Change it if not.') : 'Who should we call in an emergency?'}</p>
      </fieldset>
      <fieldset>
        <legend>Where are you?</legend>
        <label>
          <input type="radio" name="place" checked={place === 'private'} onChange={() => setPlace('private')} /> I am in a private place
        </label>
        <label>
          <input type="radio" name="place" checked={place === 'not_alone'} onChange={() => setPlace('not_alone')} /> I am not alone — chat only today
        </label>
      </fieldset>
      <button type="submit" disabled={sending} aria-busy={sending}>
        {sending ? 'Checking in…' : 'Check in'}
      </button>
    </form>
  );
}

function AdmitControl({ session, onSession }: { session: Session; onSession: (s: Session) => void }) {
  const [error, setError] = useState<unknown>(null);
  const run = (call: Promise<Session>) => call.then(onSession).catch(setError);
  return (
    <section aria-labelledby="admit-heading">
      <h2 id="admit-heading">Waiting room</h2>
      <ErrorAlert error={error} />
      {session.licence_warning && (
        <p role="alert" className="warning">
          Licence warning: {session.licence_warning}
        </p>
      )}
      {session.check_in && (
        <p>
          Client location today: {session.check_in.country}
          {session.check_in.region ? `-${session.check_in.region}` : ''} · {session.check_in.at_home ? 'at home' : 'not at home'} ·
          emergency contact {session.check_in.emergency_contact.name} ({session.check_in.emergency_contact.phone})
        </p>
      )}
      {session.waiting ? (
        <button type="button" onClick={() => void run(admit(session.appointment_id))}>
          Admit client
        </button>
      ) : (
        <p role="status">{session.admitted ? 'The client is admitted.' : 'The client has not checked in yet.'}</p>
      )}
      <label>
        <input
          type="checkbox"
          checked={session.auto_admit}
          onChange={(e) => void run(setAutoAdmit(session.appointment_id, e.target.checked))}
        />{' '}
        Admit automatically from the start time
      </label>
    </section>
  );
}

function CallScreen({
  viewer,
  session,
  stream,
  iceServers,
  onSession,
  onLeft,
}: {
  viewer: Viewer;
  session: Session;
  stream: MediaStream;
  iceServers: RTCIceServer[];
  onSession: (s: Session) => void;
  onLeft: () => void;
}) {
  const [client] = useState(() => new CallClient(session.appointment_id, iceServers, stream, onSession));
  const call = useSyncExternalStore(client.subscribe, client.getSnapshot);
  const remote = useRef<HTMLVideoElement>(null);
  const local = useRef<HTMLVideoElement>(null);
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    void client.start();
    (window as unknown as { hearthCall?: CallClient }).hearthCall = client; // for the browser tests' getStats
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => {
      clearInterval(timer);
      client.stop();
    };
  }, [client]);

  useEffect(() => {
    if (remote.current) remote.current.srcObject = call.remoteStream;
  }, [call.remoteStream]);
  useEffect(() => {
    if (local.current) local.current.srcObject = stream;
  }, [stream]);
  const modality = call.session?.modality ?? session.modality;
  useEffect(() => client.applyModality(modality), [client, modality]);

  const [shortcuts, setShortcuts] = useState(shortcutsOn);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const leave = () => {
    setConfirmLeave(false);
    client.leave();
    onLeft();
  };

  // Single-key shortcuts (WCAG 2.1.4): M mutes, L asks whether to leave. Never with Ctrl, Meta or Alt (Ctrl+L is the
  // browser's address bar), never while typing, and they can be turned off.
  useEffect(() => {
    if (!shortcuts) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.defaultPrevented || typingIn(e.target)) return;
      const key = e.key.toLowerCase();
      if (key === 'm') client.toggleMute();
      else if (key === 'l') setConfirmLeave(true);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [client, shortcuts]);

  const started = Date.parse(session.start);
  const elapsed = Math.max(0, Math.floor((now - started) / 1000));
  const timer = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
  const path = call.session?.media_path ?? session.media_path;

  return (
    <section aria-labelledby="call-heading" className="call">
      <h2 id="call-heading">Call</h2>
      <ErrorAlert error={error} />
      {call.error && <p role="alert">{call.error}</p>}
      <p role="status" aria-live="polite">
        Connection: <strong data-testid="call-status">{call.status}</strong> · ICE: {call.ice} · Path:{' '}
        <strong data-testid="media-path">{path}</strong> · Mode: <strong data-testid="modality">{modality}</strong> · Time:{' '}
        <span data-testid="timer">{timer}</span>
      </p>
      <div className="videos">
        <video ref={remote} autoPlay playsInline aria-label="The other participant" className="remote" />
        {modality === 'video' && <video ref={local} autoPlay muted playsInline aria-label="You" className="self" />}
      </div>
      <div role="toolbar" aria-label="Call controls">
        <button type="button" onClick={() => client.toggleMute()} aria-keyshortcuts={shortcuts ? 'M' : undefined}>
          {call.muted ? 'Unmute' : 'Mute'}
          {shortcuts ? ' (M)' : ''}
        </button>
        {modality === 'video' && (
          <button type="button" onClick={() => client.stepDown('audio')}>
            Switch to audio only
          </button>
        )}
        {(modality === 'video' || modality === 'audio') && (
          <button type="button" onClick={() => client.stepDown('phone')}>
            Switch to a phone call
          </button>
        )}
        <button type="button" onClick={() => client.stepDown('chat')}>
          Switch to chat
        </button>
        <button type="button" aria-keyshortcuts={shortcuts ? 'L' : undefined} onClick={leave}>
          {shortcuts ? 'Leave (L)' : 'Leave'}
        </button>
        {viewer === 'therapist' && (call.session ?? session).status === 'in_progress' && (
          <button
            type="button"
            onClick={() => {
              endSession(session.appointment_id)
                .then((s) => {
                  client.stop();
                  onSession(s);
                })
                .catch(setError);
            }}
          >
            End session
          </button>
        )}
      </div>
      {confirmLeave && <ConfirmLeave onLeave={leave} onStay={() => setConfirmLeave(false)} />}
      <p className="shortcuts">
        <label>
          <input
            type="checkbox"
            checked={shortcuts}
            onChange={(e) => {
              setShortcuts(e.target.checked);
              saveShortcuts(e.target.checked);
            }}
          />{' '}
          Keyboard shortcuts
        </label>{' '}
        <span id="shortcuts-help">
          {shortcuts
            ? 'Keyboard shortcuts: M mutes or unmutes your microphone; L asks whether to leave the call. They do nothing while you type in a text field, or with Ctrl, Alt or Cmd held.'
            : 'Keyboard shortcuts are off.'}
        </span>
      </p>
      {viewer === 'therapist' && call.session && <AdmitControl session={call.session} onSession={onSession} />}
    </section>
  );
}

const SHORTCUTS_KEY = 'hearth.call.shortcuts';

function shortcutsOn(): boolean {
  try {
    return localStorage.getItem(SHORTCUTS_KEY) !== 'off';
  } catch {
    return true;
  }
}

function saveShortcuts(on: boolean): void {
  try {
    localStorage.setItem(SHORTCUTS_KEY, on ? 'on' : 'off');
  } catch {
    // Storage unavailable (private mode): the choice lasts for this call only.
  }
}

const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Whether a key press goes to something the user types in: a shortcut there would steal the letter. */
function typingIn(target: EventTarget | null): boolean {
  if (target instanceof HTMLInputElement) return !NOT_TEXT.has(target.type);
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLElement && target.isContentEditable);
}

/** Leaving by keyboard asks first: a stray L must not drop a therapy session. Escape or "Stay" keeps the call. */
function ConfirmLeave({ onLeave, onStay }: { onLeave: () => void; onStay: () => void }) {
  const stay = useRef<HTMLButtonElement>(null);
  const stayNow = useRef(onStay);
  stayNow.current = onStay;
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    stay.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        stayNow.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      if (previous?.isConnected) previous.focus();
    };
  }, []);
  return (
    <div role="alertdialog" aria-labelledby="leave-heading" aria-describedby="leave-text" className="confirm-leave">
      <h3 id="leave-heading">Leave the call?</h3>
      <p id="leave-text">The session goes on: you can join again until it ends.</p>
      <button type="button" onClick={onLeave}>
        Leave the call
      </button>{' '}
      <button type="button" ref={stay} onClick={onStay}>
        Stay in the call
      </button>
    </div>
  );
}
