import { ApiError } from '../../api/problem';
import { onSessionLost, refreshAccessToken } from '../../api/session';
import { randomUuid } from '../../lib/uuid';
import { createWsTicket, fetchMessagesAfter, HISTORY_LIMIT, markReadRest, postMessage } from './messagingApi';
import { countOutbox, deletePending, loadOutbox, putPending } from './outbox';
import type {
  Conversation,
  ConnectionStatus,
  ErrorFrame,
  Message,
  PendingMessage,
  ReadFrame,
  ResumeFrame,
  SendFrame,
  ServerFrame,
  TypingFrame,
} from './types';

// One socket per tab carries every conversation of the signed-in user. This module owns it: it gets a ticket,
// connects, resumes each conversation from the last seq it holds, reconnects with backoff (and a new ticket),
// pings, and sends the outbox. React reads its state through `subscribe`/`getSnapshot` (useSyncExternalStore).

export interface ConversationState {
  /** Messages in seq order, one per seq. Those after `lastSeq` follow a gap this tab has not filled yet. */
  messages: Message[];
  /**
   * The cursor: this tab holds every message after `historyFrom` (or after the list's last_seq it went live from)
   * up to here, without a gap. Resumes start here, so a message stored over REST past messages this tab never got
   * cannot make them skipped.
   */
  lastSeq: number;
  /** The loaded history starts after this seq: older messages are not in the view (0 when it holds them all). */
  historyFrom: number;
  /** The highest seq the other party has read, as far as this tab has heard. */
  peerReadSeq: number;
  /** When the other party last said they were typing (ms since epoch), or 0. */
  typingAt: number;
  historyLoaded: boolean;
}

export interface MessagingState {
  status: ConnectionStatus;
  conversations: Record<string, ConversationState>;
  /** Written here, not yet acknowledged by the server; oldest first. */
  pending: PendingMessage[];
}

export const EMPTY_CONVERSATION: ConversationState = {
  messages: [],
  lastSeq: 0,
  historyFrom: 0,
  peerReadSeq: 0,
  typingAt: 0,
  historyLoaded: false,
};

const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
const RESEND_AFTER_MS = 10_000;
/** How long the socket may stay down (while the browser is online) before the outbox goes over REST instead. */
const REST_FALLBACK_AFTER_MS = 6_000;
const TICK_MS = 2_000;
const TYPING_EVERY_MS = 3_000;
/**
 * Problem codes for which a send will never succeed as is: the message waits for the user to discard it. Sending
 * the same frame again can only be refused again (an empty body is `invalid_frame` on the socket, a blank one
 * `invalid_message`; an id stored with another body is `client_message_id_reused`). Any other refusal
 * (`rate_limited`, a busy server) and a lost connection are retried with the same client_message_id.
 */
const PERMANENT_ERRORS = new Set([
  'validation_failed',
  'invalid_message',
  'invalid_frame',
  'client_message_id_reused',
  'not_found',
  'forbidden',
  'conversation_closed',
  'payload_too_large',
]);
// The server allows each user 20 frames a second with bursts of 60, shared by all their tabs and devices. A tab
// keeps well under it on its own (a therapist's reconnect resumes dozens of conversations at once), and after a
// `rate_limited` refusal waits before sending again what may have been refused.
const FRAME_BURST = 20;
const FRAMES_PER_SECOND = 10;
const RATE_LIMITED_RETRY_MS = 1_000;
const RATE_LIMITED_RETRY_MAX_MS = 8_000;

type ClientFrame = SendFrame | ResumeFrame | ReadFrame | TypingFrame | { type: 'ping' };

interface InFlight {
  /** The first frame that carried it: a later answer may be to that one (see `answered`). */
  first: number;
  /** When it was last queued or written; 0 once a refusal may have dropped it, so the next flush sends it. */
  at: number;
  /** Waiting in `outgoing`, not written yet. */
  queued: boolean;
}

function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  const seen = new Set(existing.map((m) => m.seq));
  const added = incoming.filter((m) => !seen.has(m.seq) && (seen.add(m.seq), true));
  if (added.length === 0) return existing;
  return [...existing, ...added].sort((a, b) => a.seq - b.seq);
}

/** Where the gap-free run of `messages` (in seq order) that continues `from` ends. */
function gapFreeEnd(messages: Message[], from: number): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (messages[middle]!.seq <= from) low = middle + 1;
    else high = middle;
  }
  let end = from;
  for (let i = low; i < messages.length && messages[i]!.seq === end + 1; i += 1) end += 1;
  return end;
}

/**
 * The newest message held with nothing missing before it: what the user may be told they have read. A message past
 * a gap is shown, but marking it read would also mark read the missing ones they never saw.
 */
export function lastReadableSeq(conversation: ConversationState): number {
  const { messages, lastSeq } = conversation;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i]!.seq <= lastSeq) return messages[i]!.seq;
  }
  return 0;
}

export function socketUrl(ticket: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`;
}

export class MessagingClient {
  readonly userId: string;
  private state: MessagingState = { status: 'connecting', conversations: {}, pending: [] };
  private listeners = new Set<() => void>();
  private activityListeners = new Set<(conversationId: string, fromOther: boolean) => void>();
  private started = false;
  private stopped = false;
  private socket: WebSocket | null = null;
  private connecting = false;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private awaitingPongSince = 0;
  private downSince = Date.now();
  private restFlushing = false;
  private readSent = new Map<string, number>();
  private typingSent = new Map<string, number>();
  /** The list's last_seq for conversations whose history is not loaded: where the socket goes live from. */
  private known = new Map<string, number>();
  /** The latest list's last_seq and closed flag of each conversation. */
  private listed = new Map<string, { lastSeq: number; closed: boolean }>();

  // Frames on the current socket. The server handles a socket's frames one at a time, in order, and answers each
  // in turn (`ack`, `resumed`, `pong`; `error` when refused): once a frame's answer arrives, every frame written
  // before it has been handled, and had one of them been refused, its error would have come first. A `read` has no
  // answer of its own, so it counts as taken once a later frame is answered with no refusal in between.
  /** Frames waiting for the frame budget or for a rate-limit retry, oldest first. */
  private outgoing: ClientFrame[] = [];
  private budget = FRAME_BURST;
  private budgetAt = Date.now();
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  private frameNo = 0;
  private answeredThrough = 0;
  /** Set by `rate_limited` errors: any frame written up to here may be one they refused (see `refusedUpTo`). */
  private refusedThrough = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryStartedAt = 0;
  private refusals = 0;
  /** Conversations resumed on this socket (or queued to be). */
  private resumed = new Set<string>();
  /** Resumes not answered by `resumed` yet: conversation -> the first frame that carried it. */
  private resuming = new Map<string, number>();
  /** Sends not acknowledged yet, by client_message_id. */
  private inFlight = new Map<string, InFlight>();
  /** Read receipts not known to be taken: conversation -> seq and the frame that carried it (0 while not written). */
  private reads = new Map<string, { seq: number; frame: number }>();
  private pings: number[] = [];
  private unsubscribeSession: (() => void) | null = null;
  /**
   * What the user has written in each conversation's composer and not sent, kept while they look at another page.
   * Only in memory: it goes with this client when the session ends, and is never stored on the device.
   */
  private drafts = new Map<string, string>();

  constructor(userId: string) {
    this.userId = userId;
  }

  // --- store -------------------------------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): MessagingState => this.state;

  /** Called for every new message pushed by the server (for the conversation list's counts). */
  onActivity(listener: (conversationId: string, fromOther: boolean) => void): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  conversation(id: string): ConversationState {
    return this.state.conversations[id] ?? EMPTY_CONVERSATION;
  }

  private set(next: Partial<MessagingState>): void {
    this.state = { ...this.state, ...next };
    this.listeners.forEach((listener) => listener());
  }

  private updateConversation(id: string, change: (current: ConversationState) => ConversationState, unlisted = 0): void {
    // A conversation first seen here starts from where the list said it was, so a resume never replays history.
    // One the list has not shown yet starts where the caller says (just before the first message it brings).
    const current = this.state.conversations[id] ?? { ...EMPTY_CONVERSATION, lastSeq: this.known.get(id) ?? unlisted };
    const next = change(current);
    if (next === current) return;
    this.set({ conversations: { ...this.state.conversations, [id]: next } });
  }

  /**
   * Adds messages; the cursor moves only over a gap-free run. `loadedAfter`: the messages are every one after that
   * seq (a REST read), so when it lies past the cursor (history older than the view keeps), the cursor starts there.
   */
  private merge(id: string, messages: Message[], loadedAfter?: number): void {
    const first = messages.reduce((low, m) => Math.min(low, m.seq), Infinity);
    const unlisted = loadedAfter ?? (Number.isFinite(first) ? first - 1 : 0);
    this.updateConversation(
      id,
      (current) => {
        const merged = mergeMessages(current.messages, messages);
        const from = loadedAfter !== undefined && loadedAfter > current.lastSeq ? loadedAfter : current.lastSeq;
        const lastSeq = gapFreeEnd(merged, from);
        const fromPeer = messages.some((m) => m.sender_id !== this.userId);
        if (merged === current.messages && lastSeq === current.lastSeq) return current;
        return { ...current, messages: merged, lastSeq, typingAt: fromPeer ? 0 : current.typingAt };
      },
      unlisted,
    );
  }

  /** Where this tab's gap-free run of the conversation ends: what a resume starts after. */
  private cursor(id: string): number {
    const held = this.state.conversations[id];
    return held ? held.lastSeq : (this.known.get(id) ?? 0);
  }

  // --- lifecycle ---------------------------------------------------------------------------------------------

  /** Loads the outbox and connects; idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribeSession = onSessionLost(() => this.stop());
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    this.tickTimer = setInterval(this.tick, TICK_MS);
    void loadOutbox(this.userId).then((stored) => {
      const ids = new Set(this.state.pending.map((p) => p.client_message_id));
      const pending = [...stored.filter((p) => !ids.has(p.client_message_id)), ...this.state.pending];
      pending.sort((a, b) => a.created_at.localeCompare(b.created_at));
      this.set({ pending });
      this.flush();
    });
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribeSession?.();
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.dropOutgoing();
    this.drafts.clear();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'signed out');
    if (current === this) current = null;
  }

  private handleOnline = (): void => {
    // Back online: do not wait for the backoff.
    this.attempts = 0;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (!this.socket) void this.connect();
  };

  private handleOffline = (): void => {
    // The socket may not notice for a long while; drop it now so writes go to the outbox and show as pending.
    const socket = this.socket;
    this.socket = null;
    this.stopHeartbeat();
    this.dropOutgoing();
    socket?.close(1000, 'offline');
    this.downSince = Date.now();
    this.set({ status: 'offline' });
  };

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = Math.min(30_000, 500 * 2 ** this.attempts) * (0.75 + Math.random() * 0.5);
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.socket || this.connecting) return;
    if (!navigator.onLine) {
      this.set({ status: 'offline' });
      return;
    }
    this.connecting = true;
    this.set({ status: this.attempts === 0 && this.state.status === 'connecting' ? 'connecting' : 'reconnecting' });
    let ticket: string;
    try {
      ticket = await createWsTicket();
    } catch (error) {
      this.connecting = false;
      // A 401 here already went through a refresh in the API client; the session is over.
      if (error instanceof ApiError && error.status === 401) {
        this.stop();
        return;
      }
      this.scheduleReconnect();
      return;
    }
    this.connecting = false;
    if (this.stopped || this.socket || !navigator.onLine) return;
    const socket = new WebSocket(socketUrl(ticket));
    this.socket = socket;
    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (event) => this.handleFrame(socket, event);
    socket.onclose = (event) => void this.handleClose(socket, event);
  }

  private handleOpen(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.attempts = 0;
    this.set({ status: 'online' });
    this.dropOutgoing();
    this.frameNo = 0;
    this.answeredThrough = 0;
    this.refusedThrough = 0;
    this.retryStartedAt = 0;
    this.refusals = 0;
    this.budget = FRAME_BURST;
    this.budgetAt = Date.now();
    this.resumed.clear();
    this.resuming.clear();
    this.inFlight.clear(); // everything unacknowledged goes again, with the same client_message_id
    this.pings = [];
    // Resume every conversation from the last seq held: the server replays what was missed, then goes live.
    const ids = new Set([...this.known.keys(), ...Object.keys(this.state.conversations)]);
    for (const id of ids) if (this.needsResume(id)) this.resume(id);
    // A receipt the old socket may have lost with it.
    for (const [id, read] of this.reads) {
      read.frame = 0;
      this.enqueue({ type: 'read', conversation_id: id, seq: read.seq });
    }
    this.startHeartbeat();
    this.flush();
  }

  /** A closed conversation gets no new messages: once held up to its last seq, resuming it only spends frames. */
  private needsResume(id: string): boolean {
    const listed = this.listed.get(id);
    return !listed?.closed || this.cursor(id) < listed.lastSeq;
  }

  private resume(id: string): void {
    this.resumed.add(id);
    // after_seq is filled in when the frame is written: the cursor may move while it waits.
    this.enqueue({ type: 'resume', conversation_id: id, after_seq: 0 });
  }

  private async handleClose(socket: WebSocket, event: CloseEvent): Promise<void> {
    if (socket !== this.socket) return;
    this.socket = null;
    this.stopHeartbeat();
    this.dropOutgoing();
    this.downSince = Date.now();
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.set({ status: 'offline' });
      return;
    }
    this.set({ status: 'reconnecting' });
    if (event.code === 4401) {
      // Session ended or ticket refused: refresh the session; a new ticket follows. No session: the session module
      // has signed the user out (which stops this client). A refresh that cannot get an answer for now is no
      // verdict on the session: reconnecting with backoff tries again.
      try {
        if (!(await refreshAccessToken())) return;
      } catch {
        // ConnectionProblem: fall through to the reconnect.
      }
    }
    this.scheduleReconnect();
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.awaitingPongSince = 0;
    this.pingTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      if (this.awaitingPongSince && Date.now() - this.awaitingPongSince > PONG_WITHIN_MS) {
        socket.close(4000, 'no pong'); // a dead connection: onclose reconnects
        return;
      }
      if (!this.awaitingPongSince) this.awaitingPongSince = Date.now();
      this.write({ type: 'ping' }); // not held back by the budget: it tells a dead connection from a quiet one
    }, PING_EVERY_MS);
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /** Queues a frame for the socket; false when there is no open socket to send it on. */
  private enqueue(frame: ClientFrame): boolean {
    if (!this.isOpen) return false;
    this.outgoing.push(frame);
    this.drain();
    return true;
  }

  /** Writes queued frames as the budget allows (and not while waiting out a rate limit: the retry drains). */
  private drain = (): void => {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    if (this.retryTimer) return;
    const now = Date.now();
    this.budget = Math.min(FRAME_BURST, this.budget + ((now - this.budgetAt) * FRAMES_PER_SECOND) / 1000);
    this.budgetAt = now;
    while (this.outgoing.length > 0 && this.budget >= 1) {
      if (!this.write(this.outgoing.shift()!)) {
        this.outgoing = [];
        return;
      }
      this.budget -= 1;
    }
    if (this.outgoing.length > 0) {
      this.drainTimer = setTimeout(this.drain, Math.ceil(((1 - this.budget) * 1000) / FRAMES_PER_SECOND));
    }
  };

  private dropOutgoing(): void {
    this.outgoing = [];
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Writes one frame now and numbers it, noting what its answer will be. */
  private write(frame: ClientFrame): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    const sent = frame.type === 'resume' ? { ...frame, after_seq: this.cursor(frame.conversation_id) } : frame;
    socket.send(JSON.stringify(sent));
    const no = (this.frameNo += 1);
    switch (sent.type) {
      case 'resume':
        if (!this.resuming.has(sent.conversation_id)) this.resuming.set(sent.conversation_id, no);
        break;
      case 'send': {
        const known = this.inFlight.get(sent.client_message_id);
        this.inFlight.set(sent.client_message_id, { first: known?.first || no, at: Date.now(), queued: false });
        break;
      }
      case 'read': {
        const read = this.reads.get(sent.conversation_id);
        if (read && read.seq <= sent.seq) this.reads.set(sent.conversation_id, { seq: sent.seq, frame: no });
        break;
      }
      case 'ping':
        this.pings.push(no);
        break;
      default:
        break;
    }
    return true;
  }

  /** The answer to frame `no` arrived: every frame before it was handled. */
  private answered(no: number | undefined): void {
    if (!no || no <= this.answeredThrough) return;
    this.answeredThrough = no;
    if (no > this.retryStartedAt) this.refusals = 0;
    for (const [id, read] of this.reads) {
      // Refused reads (at or before `refusedThrough`) wait for the retry instead.
      if (read.frame && read.frame < no && read.frame > this.refusedThrough) this.reads.delete(id);
    }
  }

  /**
   * The server refused a frame: after a short wait (never shorter than the server says), whatever is still
   * unanswered among the frames up to the refused one goes again. Until then nothing else is sent, which would
   * only be refused too.
   */
  private rateLimited(error: ErrorFrame): void {
    this.refusedThrough = Math.max(this.refusedThrough, this.refusedUpTo(error));
    if (this.retryTimer) return;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const backoff = Math.min(RATE_LIMITED_RETRY_MAX_MS, RATE_LIMITED_RETRY_MS * 2 ** this.refusals) * (0.75 + Math.random() * 0.5);
    this.refusals += 1;
    this.retryTimer = setTimeout(this.retryRefused, Math.max(backoff, (error.retry_after ?? 0) * 1000));
  }

  /**
   * Up to which frame a `rate_limited` error may have refused one. The error names the refused frame, and frames
   * are answered in order: the frames after it wait for their own answers, and sending them again as well would
   * only spend the budget that ran out. The number is the one `retryRefused` and `answered` compare with (a send's
   * or resume's first frame, a conversation's latest receipt). An error that does not say (a server from before
   * it did) may have refused any frame written so far.
   */
  private refusedUpTo(error: ErrorFrame): number {
    const conversation = error.conversation_id ?? '';
    switch (error.frame_type) {
      case 'send':
        return this.inFlight.get(error.ref ?? '')?.first || this.frameNo;
      case 'resume':
        return this.resuming.get(conversation) ?? this.frameNo;
      case 'read':
        return this.reads.get(conversation)?.frame || this.frameNo;
      case 'ping':
        this.pings.shift(); // the oldest unanswered ping: its pong will not come, the next pong is a later ping's
        return this.refusedThrough;
      case 'typing':
        return this.refusedThrough; // never sent again: stale by then
      default:
        return this.frameNo;
    }
  }

  private retryRefused = (): void => {
    this.retryTimer = null;
    if (!this.isOpen) return;
    const through = this.refusedThrough;
    this.retryStartedAt = this.frameNo;
    const again: ClientFrame[] = [];
    for (const [id, no] of this.resuming) {
      if (no <= through) again.push({ type: 'resume', conversation_id: id, after_seq: 0 });
    }
    for (const [id, read] of this.reads) {
      if (read.frame && read.frame <= through) {
        read.frame = 0;
        again.push({ type: 'read', conversation_id: id, seq: read.seq });
      }
    }
    for (const sent of this.inFlight.values()) {
      if (!sent.queued && sent.first <= through) sent.at = 0;
    }
    // Ahead of what was queued meanwhile; the sends follow, each conversation's oldest first (see `flush`).
    this.outgoing = [...again, ...this.outgoing];
    this.flush();
    this.drain();
  };

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  // --- frames ------------------------------------------------------------------------------------------------

  private handleFrame(socket: WebSocket, event: MessageEvent): void {
    if (socket !== this.socket) return;
    this.awaitingPongSince = 0; // any frame shows the connection is alive
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(event.data)) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'ack':
        this.answered(this.inFlight.get(frame.client_message_id)?.first);
        this.acknowledge(frame.client_message_id, {
          id: frame.message_id,
          conversation_id: frame.conversation_id,
          seq: frame.seq,
          sender_id: this.userId,
          client_message_id: frame.client_message_id,
          kind: 'user',
          body: this.state.pending.find((p) => p.client_message_id === frame.client_message_id)?.body ?? '',
          created_at: frame.created_at,
        });
        this.flush(); // the conversation's next message, if any
        break;
      case 'message': {
        const message = frame.message;
        if (message.sender_id === this.userId && this.state.pending.some((p) => p.client_message_id === message.client_message_id)) {
          this.acknowledge(message.client_message_id, message);
          this.flush();
        } else {
          this.merge(message.conversation_id, [message]);
        }
        this.activityListeners.forEach((listener) => listener(message.conversation_id, message.sender_id !== this.userId));
        break;
      }
      case 'resumed':
        this.answered(this.resuming.get(frame.conversation_id));
        this.resuming.delete(frame.conversation_id);
        break;
      case 'pong':
        this.answered(this.pings.shift());
        break;
      case 'typing':
        if (frame.user_id !== this.userId) {
          this.updateConversation(frame.conversation_id, (c) => ({ ...c, typingAt: Date.now() }));
        }
        break;
      case 'read':
        if (frame.user_id !== this.userId) {
          this.updateConversation(frame.conversation_id, (c) =>
            frame.seq > c.peerReadSeq ? { ...c, peerReadSeq: frame.seq } : c,
          );
        }
        break;
      case 'error': {
        if (frame.code === 'rate_limited') {
          this.rateLimited(frame);
          break;
        }
        const failed = frame.ref ? this.state.pending.find((p) => p.client_message_id === frame.ref) : undefined;
        if (failed) this.answered(this.inFlight.get(failed.client_message_id)?.first);
        if (failed && PERMANENT_ERRORS.has(frame.code)) {
          this.markFailed(failed, frame.detail);
          this.inFlight.delete(failed.client_message_id);
          this.flush(); // the conversation's next message no longer waits for this one
        }
        // A conversation refused for good is not resumed again; its `resumed` never comes.
        if (frame.ref && PERMANENT_ERRORS.has(frame.code)) this.resuming.delete(frame.ref);
        // Anything else (a busy server) is retried by the tick with the same client_message_id.
        break;
      }
      default:
        break;
    }
  }

  private acknowledge(clientMessageId: string, message: Message): void {
    const pending = this.state.pending.filter((p) => p.client_message_id !== clientMessageId);
    if (pending.length !== this.state.pending.length) this.set({ pending });
    this.inFlight.delete(clientMessageId);
    void deletePending(clientMessageId);
    // An ack without a body (another tab wrote it) waits for the `message` frame that carries it.
    if (message.body) this.merge(message.conversation_id, [message]);
  }

  private markFailed(message: PendingMessage, reason: string): void {
    const failed = { ...message, failed: reason };
    this.set({ pending: this.state.pending.map((p) => (p.client_message_id === message.client_message_id ? failed : p)) });
    // A REST send that fails after the session ended must not write the body back into the deleted outbox.
    if (!this.stopped) void putPending(failed);
  }

  // --- outbox ------------------------------------------------------------------------------------------------

  /** Shows the message at once as "sending", keeps it in the outbox and sends it when it can. */
  send(conversationId: string, body: string): PendingMessage {
    const message: PendingMessage = {
      client_message_id: randomUuid(),
      conversation_id: conversationId,
      user_id: this.userId,
      body,
      created_at: new Date().toISOString(),
    };
    this.set({ pending: [...this.state.pending, message] });
    void putPending(message).then(() => this.flush());
    this.flush();
    return message;
  }

  /** Drops a message the server refused (or one the user no longer wants to send). */
  discard(clientMessageId: string): void {
    this.set({ pending: this.state.pending.filter((p) => p.client_message_id !== clientMessageId) });
    this.inFlight.delete(clientMessageId);
    void deletePending(clientMessageId);
    this.flush();
  }

  /**
   * Sends each conversation's oldest pending message, unless it was sent recently. One at a time: the next goes
   * after its `ack`, so a refused frame cannot let a later message be stored before it.
   */
  private flush(): void {
    if (!this.isOpen || this.retryTimer) return;
    const now = Date.now();
    const waiting = new Set<string>();
    for (const message of this.state.pending) {
      if (message.failed || waiting.has(message.conversation_id)) continue;
      waiting.add(message.conversation_id);
      const sent = this.inFlight.get(message.client_message_id);
      if (sent && (sent.queued || now - sent.at < RESEND_AFTER_MS)) continue;
      this.inFlight.set(message.client_message_id, { first: sent?.first ?? 0, at: now, queued: true });
      this.enqueue({
        type: 'send',
        conversation_id: message.conversation_id,
        client_message_id: message.client_message_id,
        body: message.body,
      });
    }
  }

  private tick = (): void => {
    if (this.isOpen) {
      this.flush();
      return;
    }
    if (!this.socket && !this.connecting && !this.reconnectTimer && navigator.onLine && !this.stopped) void this.connect();
    if (navigator.onLine && Date.now() - this.downSince > REST_FALLBACK_AFTER_MS) void this.flushOverRest();
  };

  /** The socket stays down: send the outbox one by one over REST (the server dedups by client_message_id). */
  private async flushOverRest(): Promise<void> {
    if (this.restFlushing) return;
    this.restFlushing = true;
    try {
      for (const message of [...this.state.pending]) {
        if (this.stopped) break;
        if (message.failed || this.isOpen) continue;
        if (!this.state.pending.some((p) => p.client_message_id === message.client_message_id)) continue;
        try {
          const stored = await postMessage(message.conversation_id, message.client_message_id, message.body);
          this.acknowledge(message.client_message_id, stored);
        } catch (error) {
          if (error instanceof ApiError && error.status >= 400 && error.status < 500 && ![401, 408, 429].includes(error.status)) {
            this.markFailed(message, error.message);
            continue;
          }
          break; // offline or a busy server: keep the order, try again later
        }
      }
      await this.fillGaps();
    } finally {
      this.restFlushing = false;
    }
  }

  /**
   * While the socket is down, a message stored over REST may come after messages this tab never got (the other
   * party wrote meanwhile): they are read over REST, so they show and the cursor can move past them. Otherwise
   * the resume on reconnect replays them.
   */
  private async fillGaps(): Promise<void> {
    for (const [id, held] of Object.entries(this.state.conversations)) {
      const newest = held.messages.at(-1)?.seq ?? 0;
      if (this.isOpen || newest <= held.lastSeq) continue;
      try {
        const after = held.lastSeq;
        this.merge(id, await fetchMessagesAfter(id, after, newest), after);
      } catch {
        // Tried again on the next tick while the socket stays down.
      }
    }
  }

  // --- conversations -----------------------------------------------------------------------------------------

  /** Tells the manager which conversations exist; new ones are resumed from the list's last_seq. */
  track(conversations: Conversation[]): void {
    for (const c of conversations) {
      if (!this.known.has(c.id)) this.known.set(c.id, c.last_seq);
      this.listed.set(c.id, { lastSeq: c.last_seq, closed: c.closed });
      if (this.isOpen && !this.resumed.has(c.id) && this.needsResume(c.id)) this.resume(c.id);
    }
  }

  /**
   * Loads a conversation's newest HISTORY_LIMIT messages over REST (once), up to its end: the socket resumes from
   * there, so a window starting at the oldest message would leave out the newest. Later messages come over the
   * socket. `listedLastSeq`: the conversation's last_seq as the list the page shows has it.
   */
  async loadHistory(conversationId: string, listedLastSeq = 0): Promise<void> {
    const held = this.conversation(conversationId);
    if (held.historyLoaded) return;
    const newest = Math.max(
      listedLastSeq,
      this.listed.get(conversationId)?.lastSeq ?? 0,
      this.cursor(conversationId),
      held.messages.at(-1)?.seq ?? 0,
    );
    const from = Math.max(0, newest - HISTORY_LIMIT);
    const messages = await fetchMessagesAfter(conversationId, from);
    this.merge(conversationId, messages, from);
    this.updateConversation(conversationId, (c) => ({ ...c, historyLoaded: true, historyFrom: from }));
  }

  /** Marks messages read up to `seq` (over the socket, else REST); the other party gets a receipt. */
  markRead(conversationId: string, seq: number): void {
    if (seq <= (this.readSent.get(conversationId) ?? 0)) return;
    this.readSent.set(conversationId, seq);
    // Kept until known to be taken: a refused receipt goes again (see `answered`, `retryRefused`).
    this.reads.set(conversationId, { seq, frame: 0 });
    if (!this.enqueue({ type: 'read', conversation_id: conversationId, seq })) {
      this.reads.delete(conversationId);
      markReadRest(conversationId, seq).catch(() => this.readSent.delete(conversationId));
    }
  }

  draft(conversationId: string): string {
    return this.drafts.get(conversationId) ?? '';
  }

  keepDraft(conversationId: string, text: string): void {
    if (text) this.drafts.set(conversationId, text);
    else this.drafts.delete(conversationId);
  }

  typing(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingSent.get(conversationId) ?? 0) < TYPING_EVERY_MS) return;
    // Only worth sending now: behind other frames or a rate limit it would be stale.
    if (this.retryTimer || this.outgoing.length > 0) return;
    if (this.enqueue({ type: 'typing', conversation_id: conversationId })) this.typingSent.set(conversationId, now);
  }
}

let current: MessagingClient | null = null;

/**
 * Messages written on this device that the server has not stored yet: the outbox (every tab's), or this tab's
 * own where IndexedDB is unavailable.
 */
export async function unsentMessageCount(): Promise<number> {
  return Math.max(await countOutbox(), current?.getSnapshot().pending.length ?? 0);
}

/** The tab's one messaging client for this user (a different user gets a fresh one). */
export function messagingClientFor(userId: string): MessagingClient {
  if (current && current.userId !== userId) current.stop();
  if (!current || current.userId !== userId) current = new MessagingClient(userId);
  return current;
}
