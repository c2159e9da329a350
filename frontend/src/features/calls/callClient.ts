import { createWsTicket } from '../messaging/messagingApi';
import { socketUrl } from '../messaging/connection';
import type { Session } from './callApi';

// One call: its own socket (the server accepts several per user), one RTCPeerConnection, and MDN's "perfect
// negotiation" (https://developer.mozilla.org/en-US/docs/Web/API/WebRTC_API/Perfect_negotiation). The server
// says which role we play: the therapist is impolite (ignores a colliding offer), the client polite (rolls back).
// In `p2p` the two browsers connect directly; when ICE fails, or has not connected FALLBACK_MS after its checks
// began (NEGOTIATION_MS after the connection was made, if checks never begin), we ask for `relayed` and both
// offer to the server's relay instead. The timers count from ICE's own progress, not from joining, so a slow
// machine or a slow signaling round trip does not push a call that would connect directly onto the relay.

export type CallStatus = 'connecting' | 'joined' | 'connected' | 'reconnecting' | 'failed' | 'left';

export interface CallSnapshot {
  status: CallStatus;
  ice: RTCIceConnectionState | 'new';
  session: Session | null;
  remoteStream: MediaStream | null;
  error: string | null;
  muted: boolean;
}

const FALLBACK_MS = 10_000;
const NEGOTIATION_MS = 20_000;
const TIMELINE_LENGTH = 300;
// The polite side waits this long for the other side's first offer before offering itself: two first offers
// crossing make the polite side roll its own back, and Chromium then gathers no ICE candidates for its answer.
const POLITE_WAIT_MS = 2_500;
// Negotiated, yet ICE has not even begun checking: restart ICE once (fresh credentials, fresh gathering).
const STALLED_ICE_MS = 3_000;
const GATHER_MS = 3_000;
const RELAY_VIDEO_GRACE_MS = 4_000;
const MAX_RELAY_REPAIRS = 2;

function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener('icegatheringstatechange', check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

type Frame = Record<string, unknown> & { type: string };

export class CallClient {
  private socket: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private makingOffer = false;
  private ignoreOffer = false;
  private polite = false;
  private fallbackTimer: ReturnType<typeof setTimeout> | null = null;
  private peerTimers: ReturnType<typeof setTimeout>[] = [];
  private addLocalTracks: (() => void) | null = null;
  private listeners = new Set<() => void>();
  private snapshot: CallSnapshot = { status: 'connecting', ice: 'new', session: null, remoteStream: null, error: null, muted: false };
  private relayed = false;
  private relayBusy = false;
  private relayAgain = false;
  private relayRepairs = 0;
  private announceRelay = false;
  private readonly started = performance.now();
  /** What happened to this call, newest last (no SDP, no candidates): shown by the browser tests when a call
   * takes an unexpected path, and useful in a support session. */
  readonly timeline: string[] = [];

  private readonly appointmentId: string;
  private readonly iceServers: RTCIceServer[];
  private localStream: MediaStream;
  private readonly onSession: (session: Session) => void;

  constructor(appointmentId: string, iceServers: RTCIceServer[], localStream: MediaStream, onSession: (session: Session) => void) {
    this.appointmentId = appointmentId;
    this.iceServers = iceServers;
    this.localStream = localStream;
    this.onSession = onSession;
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.snapshot;

  private note(what: string) {
    this.timeline.push(`${Math.round(performance.now() - this.started)}ms ${what}`);
    if (this.timeline.length > TIMELINE_LENGTH) this.timeline.shift();
  }

  private set(next: Partial<CallSnapshot>) {
    this.snapshot = { ...this.snapshot, ...next };
    this.listeners.forEach((l) => l());
  }

  get peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }

  async start(): Promise<void> {
    const ticket = await createWsTicket();
    const socket = new WebSocket(socketUrl(ticket));
    this.socket = socket;
    socket.onopen = () => this.send({ type: 'session_join', appointment_id: this.appointmentId });
    socket.onmessage = (event) => {
      this.onFrame(JSON.parse(String(event.data)) as Frame).catch((error: unknown) => this.note(`failed: ${String(error)}`));
    };
    socket.onclose = () => {
      if (this.snapshot.status !== 'left') this.set({ status: 'failed', error: 'The connection to Hearth closed.' });
    };
  }

  private send(frame: Frame) {
    if (frame.type !== 'ice_candidate') this.note(`sent ${frame.type}`);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private async onFrame(frame: Frame): Promise<void> {
    if (frame.appointment_id !== undefined && frame.appointment_id !== this.appointmentId) return;
    const about = frame.session as Session | undefined;
    this.note(`got ${frame.type}${about ? ` ${about.media_path} connected=${about.connected.length}` : ''}${frame.code ? ` ${String(frame.code)}` : ''}`);
    switch (frame.type) {
      case 'session_joined': {
        const session = frame.session as Session;
        this.polite = Boolean(frame.polite);
        this.relayed = session.media_path === 'relayed';
        this.set({ status: 'joined', session });
        this.onSession(session);
        if (session.connected.length > 1) this.ensurePeer();
        break;
      }
      case 'session_update': {
        const session = frame.session as Session;
        this.set({ session });
        this.onSession(session);
        const relayed = session.media_path === 'relayed';
        if (relayed !== this.relayed) {
          this.relayed = relayed;
          this.restartPeer();
        } else if (session.connected.length > 1) {
          this.ensurePeer();
        } else if (this.pc && !this.relayed) {
          this.closePeer(); // the other participant left: start clean when they are back
        }
        break;
      }
      case 'call_offer':
      case 'call_answer':
        await this.onDescription(frame.type === 'call_offer' ? 'offer' : 'answer', String(frame.sdp));
        break;
      case 'ice_candidate':
        await this.onCandidate(frame);
        break;
      case 'renegotiate':
        if (this.relayed) await this.offerToRelay();
        else this.restartPeer();
        break;
      case 'relay_answer':
        if (!this.relayBusy) break; // the answer to a connection replaced since
        await this.pc?.setRemoteDescription({ type: 'answer', sdp: String(frame.sdp) });
        this.relayDone();
        break;
      case 'error':
        if (this.relayBusy) this.relayDone();
        this.set({ error: `${String(frame.detail)} (${String(frame.code)})` });
        break;
    }
  }

  private ensurePeer(): RTCPeerConnection {
    if (this.pc) return this.pc;
    this.note(`peer created (${this.relayed ? 'relayed' : 'p2p'}, ${this.polite ? 'polite' : 'impolite'})`);
    // iceServers always set explicitly: an empty list means host candidates only, never a browser default.
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const remote = new MediaStream();
    this.set({ remoteStream: remote });
    pc.ontrack = ({ track }) => {
      remote.addTrack(track);
      track.onended = () => remote.removeTrack(track);
      this.set({ remoteStream: remote });
    };
    pc.oniceconnectionstatechange = () => {
      const ice = pc.iceConnectionState;
      this.note(`ice ${ice}`);
      if (ice === 'checking' && !this.relayed) this.armFallback(FALLBACK_MS);
      this.set({ ice, status: ice === 'connected' || ice === 'completed' ? 'connected' : this.snapshot.status });
      if (ice === 'failed' && !this.relayed) this.askForRelay();
      if (ice === 'connected' && this.relayed) this.watchRelayedVideo(pc);
    };
    if (this.relayed) {
      for (const track of this.localStream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
      // One receive-only audio and video transceiver for the other participant (1:1).
      pc.addTransceiver('audio', { direction: 'recvonly' });
      if (this.localStream.getVideoTracks().length > 0) pc.addTransceiver('video', { direction: 'recvonly' });
      void this.offerToRelay();
      return pc;
    }
    pc.onicecandidate = ({ candidate }) => {
      this.send({
        type: 'ice_candidate',
        appointment_id: this.appointmentId,
        candidate: candidate ? candidate.candidate : '',
        sdp_mid: candidate?.sdpMid ?? null,
        sdp_mline_index: candidate?.sdpMLineIndex ?? null,
      });
    };
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.send({ type: 'call_offer', appointment_id: this.appointmentId, sdp: pc.localDescription!.sdp });
      } finally {
        this.makingOffer = false;
      }
    };
    let iceRestarted = false;
    pc.onsignalingstatechange = () => {
      this.note(`signaling ${pc.signalingState}`);
      if (pc.signalingState !== 'stable' || !pc.remoteDescription || iceRestarted) return;
      this.later(() => {
        if (this.pc !== pc || this.relayed || pc.iceConnectionState !== 'new' || iceRestarted) return;
        iceRestarted = true;
        this.note('ice has not started: restarting it');
        pc.restartIce();
      }, STALLED_ICE_MS);
    };
    this.addLocalTracks = () => {
      this.addLocalTracks = null;
      for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    };
    // The impolite side offers first; the polite side answers the offer with its tracks (addTrack reuses the
    // transceivers the offer made), or offers itself if none comes.
    if (this.polite) this.later(() => this.pc === pc && this.addLocalTracks?.(), POLITE_WAIT_MS);
    else this.addLocalTracks();
    this.armFallback(NEGOTIATION_MS);
    return pc;
  }

  private async offerToRelay(): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    // One negotiation with the relay at a time: a request arriving meanwhile runs once the answer is in.
    if (this.relayBusy) {
      this.relayAgain = true;
      return;
    }
    this.relayBusy = true;
    await pc.setLocalDescription(await pc.createOffer());
    // The relay takes no trickled candidates: the offer carries them all (or what a few seconds gathered).
    await gathered(pc, GATHER_MS);
    if (this.pc !== pc) return;
    this.send({ type: 'relay_offer', appointment_id: this.appointmentId, sdp: pc.localDescription!.sdp });
  }

  /**
   * A relayed video that brings no packets at all a few seconds after connecting (the relay waits for a key
   * frame it never asked for) is repaired by connecting to the relay afresh, a few times at most.
   */
  private watchRelayedVideo(pc: RTCPeerConnection) {
    setTimeout(() => {
      void (async () => {
        if (this.pc !== pc || this.relayRepairs >= MAX_RELAY_REPAIRS) return;
        const wantsVideo = pc.getTransceivers().some((t) => t.receiver.track.kind === 'video' && t.currentDirection === 'recvonly');
        if (!wantsVideo) return;
        let packets = 0;
        (await pc.getStats()).forEach((r: { type: string; kind?: string; packetsReceived?: number }) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') packets += r.packetsReceived ?? 0;
        });
        if (packets === 0 && this.pc === pc) {
          this.relayRepairs += 1;
          this.reconnectRelay();
        }
      })();
    }, RELAY_VIDEO_GRACE_MS);
  }

  /** The relay keeps one connection per participant: a fresh one replaces this one, and the other participant
   * offers again to pick up what this side now sends. */
  private reconnectRelay() {
    this.restartPeer();
    // Announced once the relay has answered the new connection: before that, it has nothing new to offer.
    this.announceRelay = true;
  }

  private relayDone() {
    this.relayBusy = false;
    if (this.announceRelay) {
      this.announceRelay = false;
      this.send({ type: 'renegotiate', appointment_id: this.appointmentId });
    }
    if (this.relayAgain) {
      this.relayAgain = false;
      void this.offerToRelay();
    }
  }

  private armFallback(ms: number) {
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = setTimeout(() => {
      const ice = this.pc?.iceConnectionState;
      if (!this.relayed && ice !== 'connected' && ice !== 'completed') {
        this.note(`no direct connection after ${ms}ms (ice ${ice ?? 'none'})`);
        this.askForRelay();
      }
    }, ms);
  }

  private askForRelay() {
    // Only when the server has a relay; otherwise keep trying directly (and show the state).
    if (this.snapshot.session?.relay_available) {
      this.note('asking for the relay');
      this.send({ type: 'path_change', appointment_id: this.appointmentId, media_path: 'relayed' });
    }
  }

  private async onDescription(type: 'offer' | 'answer', sdp: string): Promise<void> {
    const pc = this.ensurePeer();
    const collision = type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) return;
    await pc.setRemoteDescription({ type, sdp }); // a polite peer rolls back its own offer implicitly
    if (type === 'offer') {
      this.addLocalTracks?.();
      await pc.setLocalDescription();
      this.send({ type: 'call_answer', appointment_id: this.appointmentId, sdp: pc.localDescription!.sdp });
    }
  }

  private async onCandidate(frame: Frame): Promise<void> {
    const pc = this.ensurePeer();
    try {
      const candidate = String(frame.candidate);
      await pc.addIceCandidate(
        candidate
          ? { candidate, sdpMid: (frame.sdp_mid as string | null) ?? null, sdpMLineIndex: (frame.sdp_mline_index as number | null) ?? null }
          : null,
      );
    } catch (error) {
      if (!this.ignoreOffer) throw error;
    }
  }

  /** A timer that belongs to the current peer connection: closing the peer clears it. */
  private later(run: () => void, ms: number) {
    this.peerTimers.push(setTimeout(run, ms));
  }

  private closePeer() {
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.peerTimers.forEach(clearTimeout);
    this.peerTimers = [];
    this.addLocalTracks = null;
    this.relayBusy = false;
    this.relayAgain = false;
    this.pc?.close();
    this.pc = null;
    this.set({ remoteStream: null, ice: 'new', status: this.snapshot.status === 'left' ? 'left' : 'joined' });
  }

  private restartPeer() {
    this.closePeer();
    if ((this.snapshot.session?.connected.length ?? 0) > 1) this.ensurePeer();
  }

  /** Step down; for audio the video track goes and the call renegotiates without video. */
  stepDown(modality: 'audio' | 'phone' | 'chat') {
    if (modality !== 'chat' || this.localStream.getVideoTracks().length) this.dropVideo();
    this.send({ type: 'mode_change', appointment_id: this.appointmentId, modality });
    if (modality !== 'audio') this.leave();
  }

  dropVideo() {
    for (const track of this.localStream.getVideoTracks()) {
      track.stop();
      this.localStream.removeTrack(track);
    }
    if (!this.pc) return;
    if (this.relayed) {
      this.reconnectRelay(); // audio only now
      return;
    }
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.sender.track?.kind === 'video' || transceiver.receiver.track.kind === 'video') {
        transceiver.sender.track?.stop();
        transceiver.stop(); // negotiationneeded: the new offer carries no video
      }
    }
    this.snapshot.remoteStream?.getVideoTracks().forEach((t) => this.snapshot.remoteStream?.removeTrack(t));
    this.set({ remoteStream: this.snapshot.remoteStream });
  }

  /** The local stream changed (video dropped when the session steps down from elsewhere). */
  applyModality(modality: string) {
    if (modality !== 'video' && this.localStream.getVideoTracks().length > 0) this.dropVideo();
  }

  toggleMute() {
    const muted = !this.snapshot.muted;
    this.localStream.getAudioTracks().forEach((t) => (t.enabled = !muted));
    this.set({ muted });
  }

  leave() {
    this.set({ status: 'left' });
    this.send({ type: 'session_leave', appointment_id: this.appointmentId });
    this.closePeer();
    this.socket?.close();
  }

  stop() {
    if (this.snapshot.status !== 'left') this.leave();
    this.localStream.getTracks().forEach((t) => t.stop());
  }
}
