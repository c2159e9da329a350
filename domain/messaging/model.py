"""Conversations between a client and their therapist, and the messages in them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import ValidationFailed

MAX_BODY = 10_000
MAX_CLIENT_MESSAGE_ID = 64

DEFAULT_WELCOME = (
    "Hi {client}, welcome! I'm {therapist}. You can message me here at any time, day or night; I read and "
    "answer messages during my messaging hours. Messaging is for between-session questions, check-ins and "
    "scheduling. It is not for emergencies: if you are in crisis, call or text 988 (Suicide & Crisis "
    "Lifeline) or your local emergency number."
)
AUTO_REPLY = (
    "Thanks for your message. I'm outside my messaging hours right now and will answer {when}. "
    "If you are in crisis, call or text 988 (Suicide & Crisis Lifeline) or your local emergency number."
)


class MessageKind(StrEnum):
    USER = "user"
    WELCOME = "welcome"
    AUTO_REPLY = "auto_reply"


@dataclass(frozen=True, slots=True)
class Conversation:
    id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    practice_id: uuid.UUID
    data_key_id: uuid.UUID
    last_seq: int
    created_at: datetime
    last_message_at: datetime | None = None
    auto_replied_at: datetime | None = None
    closed_at: datetime | None = None

    def has(self, user_id: uuid.UUID) -> bool:
        return user_id in (self.client_id, self.therapist_id)

    def other(self, user_id: uuid.UUID) -> uuid.UUID:
        return self.therapist_id if user_id == self.client_id else self.client_id


@dataclass(frozen=True, slots=True)
class Message:
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    client_message_id: str
    kind: MessageKind
    body: str
    created_at: datetime


def check_body(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed("A message needs some text.", code="invalid_message", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"A message has at most {MAX_BODY} characters.", code="invalid_message", field="body")
    return body


def check_client_message_id(value: str) -> str:
    if not value or len(value) > MAX_CLIENT_MESSAGE_ID or not value.isprintable():
        raise ValidationFailed(
            f"client_message_id is 1 to {MAX_CLIENT_MESSAGE_ID} printable characters.",
            code="invalid_message",
            field="client_message_id",
        )
    return value
