import { ApiError } from '../../api/problem';
import { endSession, onSessionLost, refreshAccessToken } from '../../api/session';
import { createWsTicket, fetchMessagesAfter, markReadRest, postMessage } from './messagingApi';
import { deletePending, loadOutbox, putPending } from './outbox';
import type { Conversation, ConnectionStatus, Message, PendingMessage, ServerFrame } from './types';

// One socket per tab carries every conversation of the signed-in user. This module owns it: it gets a ticket,
// connects, resumes each conversation from the last seq it holds, reconnects with backoff (and a new ticket),
// pings, and sends the outbox. React reads its state through `subscribe`/`getSnapshot` (useSyncExternalStore).

export interface ConversationState {
  /** Messages in seq order, one per seq. */
  messages: Message[];
  /** The highest seq this tab holds (or the list's last_seq it went live from). */
  lastSeq: number;
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

const EMPTY_CONVERSATION: ConversationState = { messages: [], lastSeq: 0, peerReadSeq: 0, typingAt: 0, historyLoaded: false };

const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
const RESEND_AFTER_MS = 10_000;
/** How long the socket may stay down (while the browser is online) before the outbox goes over REST instead. */
const REST_FALLBACK_AFTER_MS = 6_000;
const TICK_MS = 2_000;
const TYPING_EVERY_MS = 3_000;
/** Problem codes for which a send will never succeed as is: the message waits for the user to discard it. */
const PERMANENT_ERRORS = new Set(['validation_failed', 'not_found', 'forbidden', 'conversation_closed', 'payload_too_large']);

function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  const seen = new Set(existing.map((m) => m.seq));
  const added = incoming.filter((m) => !seen.has(m.seq) && (seen.add(m.seq), true));
  if (added.length === 0) return existing;
  return [...existing, ...added].sort((a, b) => a.seq - b.seq);
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
  private lastSent = new Map<string, number>();
  private restFlushing = false;
  private readSent = new Map<string, number>();
  private typingSent = new Map<string, number>();
  /** The list's last_seq for conversations whose history is not loaded: where the socket goes live from. */
  private known = new Map<string, number>();
  private unsubscribeSession: (() => void) | null = null;

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

  private updateConversation(id: string, change: (current: ConversationState) => ConversationState): void {
    // A conversation first seen here starts from where the list said it was, so a resume never replays history.
    const current = this.state.conversations[id] ?? { ...EMPTY_CONVERSATION, lastSeq: this.known.get(id) ?? 0 };
    const next = change(current);
    if (next === current) return;
    this.set({ conversations: { ...this.state.conversations, [id]: next } });
  }

  private merge(id: string, messages: Message[]): void {
    this.updateConversation(id, (current) => {
      const merged = mergeMessages(current.messages, messages);
      const lastSeq = Math.max(current.lastSeq, ...messages.map((m) => m.seq));
      const fromPeer = messages.some((m) => m.sender_id !== this.userId);
      if (merged === current.messages && lastSeq === current.lastSeq) return current;
      return { ...current, messages: merged, lastSeq, typingAt: fromPeer ? 0 : current.typingAt };
    });
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
    // Resume every conversation from the last seq held: the server replays what was missed, then goes live.
    const ids = new Set([...this.known.keys(), ...Object.keys(this.state.conversations)]);
    for (const id of ids) this.resume(id);
    this.startHeartbeat();
    this.lastSent.clear(); // everything unacknowledged goes again, with the same client_message_id
    this.flush();
  }

  private resume(id: string): void {
    const held = this.state.conversations[id];
    const afterSeq = held ? held.lastSeq : (this.known.get(id) ?? 0);
    this.sendFrame({ type: 'resume', conversation_id: id, after_seq: afterSeq });
  }

  private async handleClose(socket: WebSocket, event: CloseEvent): Promise<void> {
    if (socket !== this.socket) return;
    this.socket = null;
    this.stopHeartbeat();
    this.downSince = Date.now();
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.set({ status: 'offline' });
      return;
    }
    this.set({ status: 'reconnecting' });
    if (event.code === 4401) {
      // Session ended or ticket refused: refresh the session; a new ticket follows. No session: go to login.
      const token = await refreshAccessToken();
      if (!token) {
        endSession();
        return;
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
      this.sendFrame({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  private stopHeartbeat(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private sendFrame(frame: object): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

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
        break;
      case 'message': {
        const message = frame.message;
        if (message.sender_id === this.userId && this.state.pending.some((p) => p.client_message_id === message.client_message_id)) {
          this.acknowledge(message.client_message_id, message);
        } else {
          this.merge(message.conversation_id, [message]);
        }
        this.activityListeners.forEach((listener) => listener(message.conversation_id, message.sender_id !== this.userId));
        break;
      }
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
        const failed = frame.ref ? this.state.pending.find((p) => p.client_message_id === frame.ref) : undefined;
        if (failed && PERMANENT_ERRORS.has(frame.code)) this.markFailed(failed, frame.detail);
        // Anything else (rate limits, a busy server) is retried by the tick with the same client_message_id.
        break;
      }
      default:
        break;
    }
  }

  private acknowledge(clientMessageId: string, message: Message): void {
    const pending = this.state.pending.filter((p) => p.client_message_id !== clientMessageId);
    if (pending.length !== this.state.pending.length) this.set({ pending });
    this.lastSent.delete(clientMessageId);
    void deletePending(clientMessageId);
    // An ack without a body (another tab wrote it) waits for the `message` frame that carries it.
    if (message.body) this.merge(message.conversation_id, [message]);
  }

  private markFailed(message: PendingMessage, reason: string): void {
    const failed = { ...message, failed: reason };
    this.set({ pending: this.state.pending.map((p) => (p.client_message_id === message.client_message_id ? failed : p)) });
    void putPending(failed);
  }

  // --- outbox ------------------------------------------------------------------------------------------------

  /** Shows the message at once as "sending", keeps it in the outbox and sends it when it can. */
  send(conversationId: string, body: string): PendingMessage {
    const message: PendingMessage = {
      client_message_id: crypto.randomUUID(),
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
    void deletePending(clientMessageId);
  }

  /** Sends, in the order written, every pending message not sent recently over the socket. */
  private flush(): void {
    if (!this.isOpen) return;
    const now = Date.now();
    for (const message of this.state.pending) {
      if (message.failed) continue;
      const sent = this.lastSent.get(message.client_message_id);
      if (sent && now - sent < RESEND_AFTER_MS) continue;
      this.sendFrame({
        type: 'send',
        conversation_id: message.conversation_id,
        client_message_id: message.client_message_id,
        body: message.body,
      });
      this.lastSent.set(message.client_message_id, now);
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
    } finally {
      this.restFlushing = false;
    }
  }

  // --- conversations -----------------------------------------------------------------------------------------

  /** Tells the manager which conversations exist; new ones are resumed from the list's last_seq. */
  track(conversations: Conversation[]): void {
    for (const c of conversations) {
      if (this.known.has(c.id)) continue;
      this.known.set(c.id, c.last_seq);
      if (this.isOpen && !this.state.conversations[c.id]) this.resume(c.id);
    }
  }

  /** Loads a conversation's history over REST (once); later messages come over the socket. */
  async loadHistory(conversationId: string): Promise<void> {
    if (this.conversation(conversationId).historyLoaded) return;
    const messages = await fetchMessagesAfter(conversationId, 0);
    this.merge(conversationId, messages);
    this.updateConversation(conversationId, (c) => ({ ...c, historyLoaded: true }));
  }

  /** Marks messages read up to `seq` (over the socket, else REST); the other party gets a receipt. */
  markRead(conversationId: string, seq: number): void {
    if (seq <= (this.readSent.get(conversationId) ?? 0)) return;
    this.readSent.set(conversationId, seq);
    if (!this.sendFrame({ type: 'read', conversation_id: conversationId, seq })) {
      markReadRest(conversationId, seq).catch(() => this.readSent.delete(conversationId));
    }
  }

  typing(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingSent.get(conversationId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.sendFrame({ type: 'typing', conversation_id: conversationId })) this.typingSent.set(conversationId, now);
  }
}

let current: MessagingClient | null = null;

/** The tab's one messaging client for this user (a different user gets a fresh one). */
export function messagingClientFor(userId: string): MessagingClient {
  if (current && current.userId !== userId) current.stop();
  if (!current || current.userId !== userId) current = new MessagingClient(userId);
  return current;
}
