import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState';
import { StatusMessage } from '../../components/StatusMessage';
import { formatDateTime } from '../../lib/time';
import { useMe } from '../auth/useAuth';
import { useViewerZone } from '../auth/useViewerZone';
import { AwayNotice } from './AwayNotice';
import { CONNECTION_LABELS } from './labels';
import { usePartyName } from './partyName';
import { useConversations, useMessagingClient, useMessagingState } from './queries';
import type { Conversation } from './types';
import './messaging.css';

function ConversationRow({ conversation, base, waiting }: { conversation: Conversation; base: string; waiting: number }) {
  const role = useMe().data?.role;
  const zone = useViewerZone();
  const name = usePartyName(conversation, role);
  const unread = conversation.unread_count;
  return (
    <li className="card">
      <h2 className="card-title">
        <Link to={`${base}/${conversation.id}`}>
          {name}
          {unread > 0 && (
            <span className="unread-badge">
              {unread}
              <span className="visually-hidden"> unread</span>
            </span>
          )}
        </Link>
      </h2>
      <p className="muted">
        {conversation.last_message_at ? `Last message ${formatDateTime(conversation.last_message_at, zone)}` : 'No messages yet'}
        {waiting > 0 && ` · ${waiting} waiting to be sent`}
        {conversation.closed && ' · closed'}
      </p>
    </li>
  );
}

/** The user's conversations, newest activity first, with unread counts. */
export function ConversationsPage() {
  const me = useMe().data;
  const client = useMessagingClient();
  const state = useMessagingState(client);
  const conversations = useConversations(client);
  const base = me?.role === 'therapist' ? '/therapist/messages' : '/client/messages';
  const sorted = [...(conversations.data ?? [])].sort((a, b) =>
    (b.last_message_at ?? '').localeCompare(a.last_message_at ?? ''),
  );
  return (
    <>
      <title>Messages · Hearth</title>
      <h1>Messages</h1>
      {me?.role === 'therapist' ? (
        <>
          <p>
            Secure messages with your clients. <Link to="/therapist/messages/settings">Welcome message and away status</Link>
          </p>
          <AwayNotice />
        </>
      ) : (
        <p>
          Secure messages with your therapist, any time. They answer within their messaging hours. If you are in crisis,
          call your local emergency number.
        </p>
      )}
      <StatusMessage>{CONNECTION_LABELS[state.status]}</StatusMessage>
      <QueryState isPending={conversations.isPending} error={conversations.error} what="your conversations" />
      {conversations.data &&
        (sorted.length === 0 ? (
          <p>
            No conversations yet: one opens when {me?.role === 'therapist' ? 'a client books you' : 'you book a therapist'}.
          </p>
        ) : (
          <ul className="cards" aria-label="Conversations">
            {sorted.map((c) => (
              <ConversationRow
                key={c.id}
                conversation={c}
                base={base}
                waiting={state.pending.filter((p) => p.conversation_id === c.id).length}
              />
            ))}
          </ul>
        ))}
    </>
  );
}
