import type { components, paths } from '../../api/schema';
import type { Json } from '../../api/contract';

type Schemas = components['schemas'];

export type Conversation = Schemas['ConversationOut'];
export type Message = Schemas['MessageOut'];
export type MessageKind = Message['kind'];
export type MessagePage = Json<paths['/api/v1/conversations/{conversation_id}/messages']['get']['responses'][200]>;

// WebSocket frames, named from the contract's components.
export type AckFrame = Schemas['AckFrame'];
export type MessageFrame = Schemas['MessageFrame'];
export type ResumedFrame = Schemas['ResumedFrame'];
export type TypingEventFrame = Schemas['TypingEventFrame'];
export type ReadEventFrame = Schemas['ReadEventFrame'];
export type ErrorFrame = Schemas['ErrorFrame'];
export type SendFrame = Schemas['SendFrame'];
export type ResumeFrame = Schemas['ResumeFrame'];
export type TypingFrame = Schemas['TypingFrame'];
export type ReadFrame = Schemas['ReadFrame'];

/** Every frame the server sends, told apart by `type`. */
export type ServerFrame =
  | (AckFrame & { type: 'ack' })
  | (MessageFrame & { type: 'message' })
  | (ResumedFrame & { type: 'resumed' })
  | (TypingEventFrame & { type: 'typing' })
  | (ReadEventFrame & { type: 'read' })
  | (ErrorFrame & { type: 'error' })
  | { type: 'pong' };

/** A message the user wrote that the server has not acknowledged yet (kept in the outbox until it has). */
export interface PendingMessage {
  client_message_id: string;
  conversation_id: string;
  /** The author: only their session may send it (the outbox is deleted when a session ends, see outbox.ts). */
  user_id: string;
  body: string;
  /** When it was written (local clock), which is also the order it is sent in. */
  created_at: string;
  /** Set when the server refused it for good (e.g. too long); it then waits for the user to discard it. */
  failed?: string;
}

export type ConnectionStatus = 'connecting' | 'online' | 'offline' | 'reconnecting';
