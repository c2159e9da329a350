"""Storage for conversations and messages. Bodies are stored sealed under the conversation's data key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.audit.events import AuditEvent, AuditLog
from domain.identity.ports import UserRepository
from domain.messaging.model import Conversation, MessageKind
from domain.scheduling.model import OfficeHours
from domain.scheduling.ports import CareRepository, OfficeHoursRepository
from domain.shared.cipher import WrappedDataKey
from domain.shared.data_keys import DataKeyUnitOfWork
from domain.shared.jobs import JobScheduler


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    client_message_id: str
    kind: MessageKind
    body: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    conversation: Conversation
    unread_count: int
    #: The other party's read cursor: how far their read receipts go.
    peer_read_seq: int = 0


@dataclass(frozen=True, slots=True)
class Presence:
    """What decides a therapist's automatic reply: away since when (None: not away), and their office hours."""

    away_since: datetime | None
    hours: OfficeHours | None


class ClientMessageStored(Exception):
    """`store` found a message's (conversation, sender, client_message_id) stored already; nothing was stored."""


@dataclass(frozen=True, slots=True)
class SendTarget:
    """A conversation locked for sending, with what a send needs of it: its data key (None: missing) and its
    therapist's presence."""

    conversation: Conversation
    key: WrappedDataKey | None
    presence: Presence


class ConversationRepository(Protocol):
    async def get(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation | None: ...

    async def lock_for_send(self, conversation_ids: Sequence[uuid.UUID]) -> list[SendTarget]:
        """The conversations that exist among these, locked FOR UPDATE in id order, with their data keys and
        therapists' presence (one round trip)."""

    async def messages_by_client_ids(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str]]) -> list[StoredMessage]:
        """The stored messages among these (conversation_id, sender_id, client_message_id) keys."""

    async def store(
        self, messages: Sequence[StoredMessage], progress: Sequence[Conversation], audit: Sequence[AuditEvent] = ()
    ) -> None:
        """Add `messages`, store each of `progress`'s last_seq, last_message_at and auto_replied_at, and append
        `audit` to the audit log as `AuditLog.append_many` would (one round trip). A client_message_id already
        stored fails it whole with ClientMessageStored (the transaction is then to be rolled back)."""

    async def open_for(self, client_id: uuid.UUID, therapist_id: uuid.UUID) -> Conversation | None: ...

    async def add(self, conversation: Conversation) -> bool:
        """False when an open conversation between the two already exists."""

    async def close(self, conversation_id: uuid.UUID, at: datetime) -> None: ...

    async def for_user(
        self, user_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None = None, limit: int | None = None
    ) -> list[ConversationSummary]:
        """Newest first by (created_at, id), only those before `after` when given, at most `limit`."""

    async def summary(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> ConversationSummary | None:
        """One of the user's conversations as `for_user` lists it; None when it is not theirs."""

    async def messages_after(self, conversation_id: uuid.UUID, after_seq: int, limit: int) -> list[StoredMessage]: ...

    async def mark_read(self, conversation_id: uuid.UUID, user_id: uuid.UUID, seq: int, at: datetime) -> int:
        """Move the user's read cursor forward (never back); returns the cursor."""

    async def read_cursor(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> int: ...

    async def claim_notification(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, now: datetime, throttle: timedelta
    ) -> bool:
        """True (and recorded) when no unread-message email went to the user for this conversation within
        `throttle`; concurrent callers cannot both get True."""

    async def release_notification(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, claimed: datetime, previous: datetime | None
    ) -> None:
        """Undo the claim made at `claimed` (its email was not sent): the record goes back to `previous` (None:
        no email was ever sent). A later claim stays as it is."""

    async def first_unread(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, after_seq: int, created_after: datetime | None = None
    ) -> tuple[int, datetime] | None:
        """(seq, created_at) of the oldest message written to `user_id` by the other participant (kind `user`)
        after `after_seq` (and, if given, created after `created_after`)."""

    async def notified_at(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        """When the last unread-message email about this conversation went to the user."""

    async def away_since(self, therapist_id: uuid.UUID) -> datetime | None: ...

    async def set_away(self, therapist_id: uuid.UUID, away: bool, at: datetime) -> None: ...

    async def welcome_template(self, therapist_id: uuid.UUID) -> str | None: ...

    async def set_welcome_template(self, therapist_id: uuid.UUID, template: str, at: datetime) -> None: ...


class MessagingUnitOfWork(DataKeyUnitOfWork, Protocol):
    users: UserRepository
    office_hours: OfficeHoursRepository
    care: CareRepository
    conversations: ConversationRepository
    audit: AuditLog
    jobs: JobScheduler

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` once this unit of work has committed (never if it does not): what a transaction owned by
        another service (a booking, a match) must announce only when it stands. A failing action is logged."""
