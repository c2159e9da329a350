"""Contract models for conversations, messages and the WebSocket frames."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.sessions import CallClientFrame, CallServerFrame
from api.schemas.types import MAX_BIGINT, RequestModel
from domain.messaging.model import Message
from domain.messaging.ports import ConversationSummary


class ConversationOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    unread_count: int
    peer_read_seq: int = Field(
        description="How far the other party has read (0: nothing yet); later receipts come as `read` frames"
    )
    last_message_at: datetime | None
    last_seq: int
    closed: bool

    @classmethod
    def of(cls, s: ConversationSummary) -> ConversationOut:
        c = s.conversation
        return cls(
            id=c.id,
            therapist_id=c.therapist_id,
            client_id=c.client_id,
            unread_count=s.unread_count,
            peer_read_seq=s.peer_read_seq,
            last_message_at=c.last_message_at,
            last_seq=c.last_seq,
            closed=c.closed_at is not None,
        )


class Conversations(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class StartConversation(RequestModel):
    client_id: uuid.UUID


class SendMessage(RequestModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [{"client_message_id": "5b0c3d1e-8f5a-4b8e-9a53-3c7d2e1f0a11", "body": "See you Tuesday!"}]
        },
    }

    client_message_id: str = Field(
        min_length=1, max_length=64, description="Chosen by the sender; a retry with the same id is stored once"
    )
    body: str = Field(min_length=1, max_length=10000)


class MessageOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    client_message_id: str
    kind: Literal["user", "welcome", "auto_reply"]
    body: str
    created_at: datetime

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id,
            conversation_id=m.conversation_id,
            seq=m.seq,
            sender_id=m.sender_id,
            client_message_id=m.client_message_id,
            kind=m.kind.value,
            body=m.body,
            created_at=m.created_at,
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (or, being the last seq, as `after_seq`) for the next page; null at the end"
    )


class MarkRead(RequestModel):
    seq: int = Field(strict=True, ge=0, le=MAX_BIGINT)


class ReadCursor(BaseModel):
    conversation_id: uuid.UUID
    last_read_seq: int


class WelcomeTemplate(RequestModel):
    template: str = Field(
        min_length=1, max_length=4000, description="{client} and {therapist} are replaced by first name and your name"
    )


class Away(RequestModel):
    away: bool = Field(strict=True, description="While away, clients who write get one automatic reply")


class WsTicket(BaseModel):
    ticket: str
    expires_in: int = Field(description="Seconds; the ticket works once")


# --- WebSocket frames (JSON objects with a `type`) ------------------------------------------------------------

WS_MAX_FRAME_BYTES = 262_144  # a larger client frame closes the socket with 1009 (see api/cli.py SERVE_OPTIONS)


class SendFrame(RequestModel):
    type: Literal["send"]
    conversation_id: uuid.UUID
    client_message_id: str = Field(min_length=1, max_length=64)
    body: str = Field(min_length=1, max_length=10000)


class ResumeFrame(RequestModel):
    type: Literal["resume"]
    conversation_id: uuid.UUID
    after_seq: int = Field(strict=True, ge=0, le=MAX_BIGINT)


class TypingFrame(RequestModel):
    type: Literal["typing"]
    conversation_id: uuid.UUID


class ReadFrame(RequestModel):
    type: Literal["read"]
    conversation_id: uuid.UUID
    seq: int = Field(strict=True, ge=0, le=MAX_BIGINT)


class PingFrame(RequestModel):
    type: Literal["ping"]


class AckFrame(BaseModel):
    """The answer to `send`, once the message is committed. It stands for the stored message on the socket that
    sent it: that socket gets no `message` frame for it while it is live in the conversation (the user's other
    sockets do); a socket that is behind gets it again with what it missed."""

    type: Literal["ack"] = "ack"
    conversation_id: uuid.UUID
    client_message_id: str
    message_id: uuid.UUID
    seq: int
    created_at: datetime
    duplicate: bool = Field(description="True when this client_message_id was already stored")


class MessageFrame(BaseModel):
    type: Literal["message"] = "message"
    message: MessageOut


class TypingEventFrame(BaseModel):
    type: Literal["typing"] = "typing"
    conversation_id: uuid.UUID
    user_id: uuid.UUID


class ReadEventFrame(BaseModel):
    type: Literal["read"] = "read"
    conversation_id: uuid.UUID
    user_id: uuid.UUID
    seq: int


class ResumedFrame(BaseModel):
    type: Literal["resumed"] = "resumed"
    conversation_id: uuid.UUID
    last_seq: int = Field(description="Everything up to here has been sent; live messages follow")


class ErrorFrame(BaseModel):
    """Refuses one frame. A socket's frames are handled and answered in the order they came; the fields below say
    which frame this answers, when it could be read."""

    type: Literal["error"] = "error"
    code: str
    detail: str
    ref: str | None = Field(
        default=None, description="The client_message_id, conversation or appointment the error is about"
    )
    frame_type: str | None = Field(default=None, description="The `type` of the frame refused", examples=["send"])
    conversation_id: uuid.UUID | None = Field(
        default=None,
        description="The conversation of the frame refused, if it names one (a client_message_id is unique per"
        " conversation, not overall)",
    )
    retry_after: float | None = Field(
        default=None,
        description="With `rate_limited`: seconds until the user's frame budget has room for one more frame",
        examples=[0.05],
    )


class PongFrame(BaseModel):
    type: Literal["pong"] = "pong"


ClientFrame = SendFrame | ResumeFrame | TypingFrame | ReadFrame | PingFrame | CallClientFrame
ServerFrame = (
    AckFrame
    | MessageFrame
    | TypingEventFrame
    | ReadEventFrame
    | ResumedFrame
    | ErrorFrame
    | PongFrame
    | CallServerFrame
)
