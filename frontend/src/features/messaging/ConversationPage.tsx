import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorAlert } from '../../components/ErrorAlert';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { formatDateTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { AwayNotice } from './AwayNotice';
import { EMPTY_CONVERSATION, lastReadableSeq } from './connection';
import { CONNECTION_LABELS } from './labels';
import { HISTORY_LIMIT } from './messagingApi';
import { usePartyName } from './partyName';
import { messagingKeys, useConversations, useMessagingClient, useMessagingState } from './queries';
import type { Conversation, Message } from './types';
import './messaging.css';

const TYPING_SHOWN_MS = 6_000;
const MAX_BODY = 10_000;
const LENGTH_SHOWN_WITHIN = 500; // the count appears this close to the limit

function characters(text: string): number {
  let count = 0;
  for (const _ of text) count += 1; // iterates code points, as the server's len() counts
  return count;
}
/** Scrolled this close to the end of the log, the user is following the newest messages. */
const NEWEST_WITHIN_PX = 40;

function senderLabel(message: Message, myId: string | undefined, partyName: string): string {
  // The welcome message and automatic replies go out in the therapist's name: theirs on the therapist's side.
  const mine = message.sender_id === myId;
  if (message.kind === 'welcome') return mine ? 'Your welcome message' : `Welcome message from ${partyName}`;
  if (message.kind === 'auto_reply') return mine ? 'Your automatic reply' : `Automatic reply from ${partyName}`;
  return mine ? 'You' : partyName;
}

/** The start of a message, to tell apart controls that act on different messages. */
function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

/** True while the other party's last typing signal is recent. */
function useTyping(typingAt: number): boolean {
  const [, rerender] = useState(0);
  const shown = typingAt > 0 && Date.now() - typingAt < TYPING_SHOWN_MS;
  useEffect(() => {
    if (!shown) return undefined;
    const timer = setTimeout(() => rerender((n) => n + 1), typingAt + TYPING_SHOWN_MS - Date.now() + 50);
    return () => clearTimeout(timer);
  }, [shown, typingAt]);
  return shown;
}

/** One conversation: its messages in seq order, live updates, the outbox's pending messages and the composer. */
export function ConversationPage() {
  const { conversationId = '' } = useParams();
  const me = useMe().data;
  const zone = useViewerZone();
  const queryClient = useQueryClient();
  const client = useMessagingClient();
  const state = useMessagingState(client);
  const conversations = useConversations(client);
  const conversation = conversations.data?.find((c) => c.id === conversationId);
  const partyName = usePartyName(conversation, me?.role);
  const held = state.conversations[conversationId] ?? EMPTY_CONVERSATION;
  const pending = state.pending.filter((p) => p.conversation_id === conversationId);
  // Only while connected: offline, nothing says the other party still types (their signals cannot reach us).
  const typing = useTyping(held.typingAt) && state.status === 'online';
  const visible = useDocumentVisible();
  const [historyError, setHistoryError] = useState<unknown>(null);
  // Kept by the messaging client while the user looks at another page (see `keepDraft`).
  const [draft, setDraft] = useState(() => client?.draft(conversationId) ?? '');
  const [announcement, setAnnouncement] = useState('');
  const composerId = useId();
  const logRef = useRef<HTMLDivElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);
  /** False while the user has scrolled up from the newest message (to read earlier ones). */
  const atNewest = useRef(true);
  /** The composer (or the closed notice): the end of the conversation on the page. */
  const endRef = useRef<HTMLElement | null>(null);
  const setEnd = (element: HTMLElement | null) => {
    endRef.current = element;
  };
  const broughtIntoView = useRef(false);
  const announcedSeq = useRef<number | null>(null);
  const base = me?.role === 'therapist' ? '/therapist/messages' : '/client/messages';

  useEffect(() => {
    if (client) setDraft((current) => current || client.draft(conversationId));
  }, [client, conversationId]);
  const changeDraft = (text: string) => {
    setDraft(text);
    client?.keepDraft(conversationId, text);
  };

  useEffect(() => {
    if (!client || !conversation) return;
    setHistoryError(null);
    client.loadHistory(conversationId, conversation.last_seq).catch(setHistoryError);
  }, [client, conversation, conversationId]);

  // Not simply the newest message: one stored over REST may be shown before older ones have arrived.
  const lastSeq = lastReadableSeq(held);

  // Mark read what is on screen, up to the first missing message, while the page is visible; the other party
  // sees "Seen".
  useEffect(() => {
    if (!client || !visible || lastSeq === 0) return;
    client.markRead(conversationId, lastSeq);
    queryClient.setQueryData<Conversation[]>(messagingKeys.conversations, (list) =>
      list?.map((c) => (c.id === conversationId && c.unread_count > 0 ? { ...c, unread_count: 0 } : c)),
    );
  }, [client, visible, conversationId, lastSeq, queryClient]);

  // Announce messages from the other party that arrive while the page is open (not the history it loaded with).
  useEffect(() => {
    if (!held.historyLoaded) return;
    if (announcedSeq.current === null) {
      announcedSeq.current = lastSeq;
      return;
    }
    const fresh = held.messages.filter(
      (m) => m.seq > (announcedSeq.current ?? 0) && m.seq <= lastSeq && m.sender_id !== me?.id,
    );
    announcedSeq.current = Math.max(announcedSeq.current, lastSeq);
    const latest = fresh.at(-1);
    if (latest) setAnnouncement(`New message from ${partyName}: ${latest.body}`);
  }, [held.historyLoaded, held.messages, lastSeq, me?.id, partyName]);

  // Under the heading and status, the log's newest messages and the composer start below the fold of a phone (or
  // of a short laptop screen): once the history is there, the page scrolls so that they are in view.
  const shown = Boolean(conversation);
  useEffect(() => {
    const end = endRef.current;
    if (!held.historyLoaded || !end || broughtIntoView.current) return;
    broughtIntoView.current = true;
    if (end.getBoundingClientRect().bottom > window.innerHeight) end.scrollIntoView({ block: 'end' });
  }, [held.historyLoaded, shown]);

  // Announce a message of the user's that the server refused: the red border and "Not sent" are not heard.
  const announcedRefusals = useRef(new Set<string>());
  const refused = pending.filter((p) => p.failed);
  const refusedIds = refused.map((p) => p.client_message_id).join(' ');
  useEffect(() => {
    const fresh = refused.filter((p) => !announcedRefusals.current.has(p.client_message_id));
    fresh.forEach((p) => announcedRefusals.current.add(p.client_message_id));
    const latest = fresh.at(-1);
    if (latest) setAnnouncement(`Your message “${excerpt(latest.body)}” was not sent: ${latest.failed}`);
  }, [refusedIds]); // `refused` is a new array every render: its ids say when it changed

  // Keep the newest message in view, unless the user scrolled up to read earlier ones: a message arriving then
  // must not pull them away from what they are reading (their own message brings them down, see `submit`).
  useEffect(() => {
    const log = logRef.current;
    if (log && atNewest.current) log.scrollTop = log.scrollHeight;
  }, [held.messages.length, pending.length]);

  if (conversations.isPending || conversations.error) {
    return <QueryState isPending={conversations.isPending} error={conversations.error} what="the conversation" />;
  }
  if (!conversation) {
    return (
      <>
        <h1>Conversation not found</h1>
        <p>
          <Link to={base}>Back to messages</Link>
        </p>
      </>
    );
  }

  // A touch screen's keyboard has no Shift+Enter: there, Enter starts a new line (or a client could never write
  // one, and a slip of the thumb would send half a message), and the Send button sends.
  const enterSends = !window.matchMedia('(pointer: coarse)').matches;

  // "Seen" goes under the newest of my messages the other party has read: as far as the list says they had when
  // it loaded (receipts sent before this page opened), or further as their receipts come in.
  const peerReadSeq = Math.max(held.peerReadSeq, conversation.peer_read_seq);
  const lastSeenMine = [...held.messages].reverse().find((m) => m.sender_id === me?.id && m.seq <= peerReadSeq);

  // Counted as the server counts (Unicode code points, so an emoji is one), never cut: a box with a maxLength
  // silently drops the end of a long pasted text.
  const length = characters(draft.trim());
  const tooLong = length > MAX_BODY;

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const body = draft.trim();
    if (!client || !body || tooLong) return;
    atNewest.current = true;
    client.send(conversationId, body);
    changeDraft('');
    // Sent with the Send button, which the empty box disables: the focus would fall to the page.
    composerRef.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends, Shift+Enter starts a new line; on a touch screen Enter only starts a new line.
    if (enterSends && event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <>
      <title>{`Messages with ${partyName} · Hearth`}</title>
      <p>
        <Link to={base}>All conversations</Link>
      </p>
      <h1>Messages with {partyName}</h1>
      {me?.role === 'therapist' && <AwayNotice />}
      <StatusMessage>{CONNECTION_LABELS[state.status]}</StatusMessage>
      {historyError ? <ErrorAlert error={historyError} /> : null}
      {!held.historyLoaded && !historyError && <p role="status">Loading messages…</p>}
      <div
        className="message-log"
        ref={logRef}
        tabIndex={0}
        role="region"
        aria-label={`Messages with ${partyName}`}
        onScroll={(event) => {
          const log = event.currentTarget;
          atNewest.current = log.scrollHeight - log.scrollTop - log.clientHeight < NEWEST_WITHIN_PX;
        }}
      >
        {held.historyFrom > 0 && (
          <p className="muted">Only the latest {HISTORY_LIMIT.toLocaleString('en')} messages are shown here.</p>
        )}
        <ol aria-label="Messages">
          {held.messages.map((message) => {
            const mine = message.sender_id === me?.id;
            return (
              <li key={message.seq} className={mine ? 'message mine' : 'message'} data-seq={message.seq}>
                <span className="message-meta">
                  {senderLabel(message, me?.id, partyName)} · <time dateTime={message.created_at}>{formatDateTime(message.created_at, zone)}</time>
                </span>
                <p className="message-body">{message.body}</p>
                {message === lastSeenMine && <span className="message-meta">Seen</span>}
              </li>
            );
          })}
          {pending.map((message) => (
            <li key={message.client_message_id} className={message.failed ? 'message mine failed' : 'message mine'} data-pending="true">
              <span className="message-meta">You</span>
              <p className="message-body">{message.body}</p>
              {message.failed ? (
                <span className="message-meta">
                  Not sent: {message.failed}{' '}
                  <button type="button" onClick={() => client?.discard(message.client_message_id)}>
                    Discard<span className="visually-hidden"> the message “{excerpt(message.body)}”</span>
                  </button>
                </span>
              ) : (
                <span className="message-meta">{state.status === 'online' ? 'Sending…' : 'Waiting to send'}</span>
              )}
            </li>
          ))}
        </ol>
        {held.historyLoaded && held.messages.length === 0 && pending.length === 0 && <p>No messages yet.</p>}
      </div>
      <p className="typing-indicator" aria-live="polite">
        {typing ? `${partyName} is typing…` : ''}
      </p>
      <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
      {conversation.closed ? (
        <p ref={setEnd}>This conversation is closed.</p>
      ) : (
        <form ref={setEnd} onSubmit={submit} aria-label="Write a message">
          <div className="field">
            <label htmlFor={composerId}>Message</label>
            <p className="hint" id={`${composerId}-hint`}>
              {enterSends ? 'Enter sends, Shift+Enter starts a new line.' : 'Enter starts a new line; the Send button sends.'}
              {me?.role === 'client' && ' Not for emergencies: if you are in crisis, call your local emergency number.'}
            </p>
            {length > MAX_BODY - LENGTH_SHOWN_WITHIN && (
              <p className={tooLong ? 'field-error' : 'hint'} id={`${composerId}-length`} role={tooLong ? 'alert' : undefined}>
                {tooLong
                  ? `${length.toLocaleString('en')} characters: a message holds at most ${MAX_BODY.toLocaleString('en')}. Shorten it or send it in parts.`
                  : `${length.toLocaleString('en')} of ${MAX_BODY.toLocaleString('en')} characters.`}
              </p>
            )}
            <textarea
              ref={composerRef}
              id={composerId}
              aria-describedby={length > MAX_BODY - LENGTH_SHOWN_WITHIN ? `${composerId}-hint ${composerId}-length` : `${composerId}-hint`}
              aria-invalid={tooLong || undefined}
              rows={3}
              value={draft}
              onChange={(event) => {
                changeDraft(event.target.value);
                if (event.target.value) client?.typing(conversationId);
              }}
              onKeyDown={onKeyDown}
            />
          </div>
          <button type="submit" disabled={!draft.trim() || tooLong}>
            Send
          </button>
        </form>
      )}
    </>
  );
}
