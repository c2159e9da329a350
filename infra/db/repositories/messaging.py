"""Conversations and messages in PostgreSQL. Bodies are ciphertext; seq is advanced under the row lock."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit.events import AuditEvent
from domain.messaging.model import Conversation, MessageKind
from domain.messaging.ports import ClientMessageStored, ConversationSummary, Presence, SendTarget, StoredMessage
from domain.scheduling.model import OfficeHours
from domain.shared.cipher import WrappedDataKey
from infra.db import fast
from infra.db.repositories.audit import append_args
from infra.db.repositories.scheduling import office_hours_of
from infra.db.tables import (
    conversation_reads,
    conversations,
    message_notifications,
    messages,
    messaging_settings,
)


def _conversation(r: Any) -> Conversation:
    return Conversation(
        id=r.id,
        client_id=r.client_id,
        therapist_id=r.therapist_id,
        practice_id=r.practice_id,
        data_key_id=r.data_key_id,
        last_seq=r.last_seq,
        created_at=r.created_at,
        last_message_at=r.last_message_at,
        auto_replied_at=r.auto_replied_at,
        closed_at=r.closed_at,
    )


def _message(r: Any) -> StoredMessage:
    return StoredMessage(
        r.id, r.conversation_id, r.seq, r.sender_id, r.client_message_id, MessageKind(r.kind), r.body, r.created_at
    )


# Looked up on every booking (the pair's conversation is opened on the first).
_OPEN_CONVERSATION = fast.FastStatement(
    sa.select(conversations).where(
        conversations.c.client_id == sa.bindparam("client_id"),
        conversations.c.therapist_id == sa.bindparam("therapist_id"),
        conversations.c.closed_at.is_(None),
    )
)

# The batched send path (MessagingService._store_batch): a handful of set-based statements per batch.
# One round trip: the conversations locked in id order, each with its data key and its therapist's presence.
_LOCK_FOR_SEND = (
    "SELECT c.id, c.client_id, c.therapist_id, c.practice_id, c.data_key_id, c.last_seq, c.last_message_at, "
    "c.auto_replied_at, c.created_at, c.closed_at, k.kek_id, k.wrapped, k.version AS key_version, "
    "s.away_since, h.therapist_id AS hours_of, h.timezone, h.rules::text AS rules, "
    "h.buffer_minutes, h.max_sessions_per_day, h.min_notice_minutes, h.horizon_days "
    "FROM conversations c LEFT JOIN data_keys k ON k.id = c.data_key_id "
    "LEFT JOIN messaging_settings s ON s.therapist_id = c.therapist_id "
    "LEFT JOIN office_hours h ON h.therapist_id = c.therapist_id "
    "WHERE c.id = ANY($1::uuid[]) ORDER BY c.id FOR UPDATE OF c"
)
_BY_CLIENT_IDS = (
    "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.kind, m.body, m.created_at "
    "FROM messages m JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) AS k(conversation_id, sender_id, cmid) "
    "ON m.conversation_id = k.conversation_id AND m.sender_id = k.sender_id AND m.client_message_id = k.cmid"
)
# One round trip: the new messages, their conversations' progress and the audit events of the writes (the chain's
# lock is then held until COMMIT, as with any append). A client_message_id stored already (a retry the batch did
# not look up) fails the whole statement on uq_messages_client_message: `store` raises ClientMessageStored and the
# service runs the batch again with the lookup.
_STORE = (
    "WITH stored AS (INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, kind, body, "
    "created_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], "
    "$7::bytea[], $8::timestamptz[])), "
    "progressed AS (UPDATE conversations c SET last_seq = p.last_seq, last_message_at = p.last_message_at, "
    "auto_replied_at = p.auto_replied_at "
    "FROM unnest($9::uuid[], $10::bigint[], $11::timestamptz[], $12::timestamptz[]) "
    "AS p(id, last_seq, last_message_at, auto_replied_at) WHERE c.id = p.id) "
    "SELECT CASE WHEN cardinality($14::text[]) > 0 THEN hearth_audit_append($13, $14) END"
)


@functools.lru_cache(maxsize=4096)
def _hours(
    timezone: str, rules: str, buffer_minutes: int, max_sessions: int | None, min_notice: int, horizon: int
) -> OfficeHours:
    """Every send batch reads its therapists' office hours (for the automatic reply); they rarely change, so the
    parsed value is kept per distinct row (OfficeHours is immutable)."""
    return office_hours_of(
        SimpleNamespace(
            timezone=timezone,
            rules=json.loads(rules),
            buffer_minutes=buffer_minutes,
            max_sessions_per_day=max_sessions,
            min_notice_minutes=min_notice,
            horizon_days=horizon,
        )
    )


def _presence(r: Any) -> Presence:
    hours = None
    if r.hours_of is not None:
        hours = _hours(
            r.timezone, r.rules, r.buffer_minutes, r.max_sessions_per_day, r.min_notice_minutes, r.horizon_days
        )
    return Presence(r.away_since, hours)


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, conversation_id: uuid.UUID, *, for_update: bool = False) -> Conversation | None:
        query = sa.select(conversations).where(conversations.c.id == conversation_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _conversation(row) if row else None

    async def lock_for_send(self, conversation_ids: Sequence[uuid.UUID]) -> list[SendTarget]:
        connection = await fast.driver(self._s)
        rows = await connection.fetch(_LOCK_FOR_SEND, sorted(set(conversation_ids)), record_class=fast.Row)
        return [
            SendTarget(
                _conversation(r),
                WrappedDataKey(r.kek_id, r.wrapped, r.key_version) if r.kek_id is not None else None,
                _presence(r),
            )
            for r in rows
        ]

    async def messages_by_client_ids(self, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str]]) -> list[StoredMessage]:
        if not keys:
            return []
        connection = await fast.driver(self._s)
        rows = await connection.fetch(
            _BY_CLIENT_IDS, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], record_class=fast.Row
        )
        return [_message(r) for r in rows]

    async def store(
        self, messages: Sequence[StoredMessage], progress: Sequence[Conversation], audit: Sequence[AuditEvent] = ()
    ) -> None:
        if not messages and not progress and not audit:
            return
        connection = await fast.driver(self._s)
        try:
            await connection.fetchval(
                _STORE,
                [m.id for m in messages],
                [m.conversation_id for m in messages],
                [m.seq for m in messages],
                [m.sender_id for m in messages],
                [m.client_message_id for m in messages],
                [m.kind.value for m in messages],
                [m.body for m in messages],
                [m.created_at for m in messages],
                [c.id for c in progress],
                [c.last_seq for c in progress],
                [c.last_message_at for c in progress],
                [c.auto_replied_at for c in progress],
                *append_args(audit),
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "uq_messages_client_message":
                raise ClientMessageStored from None
            raise

    async def open_for(self, client_id: uuid.UUID, therapist_id: uuid.UUID) -> Conversation | None:
        row = await fast.fetchrow(self._s, _OPEN_CONVERSATION, client_id=client_id, therapist_id=therapist_id)
        return _conversation(row) if row else None

    async def add(self, conversation: Conversation) -> bool:
        inserted = await self._s.execute(
            pg_insert(conversations)
            .values(
                id=conversation.id,
                client_id=conversation.client_id,
                therapist_id=conversation.therapist_id,
                practice_id=conversation.practice_id,
                data_key_id=conversation.data_key_id,
                last_seq=conversation.last_seq,
                created_at=conversation.created_at,
            )
            .on_conflict_do_nothing()
            .returning(conversations.c.id)
        )
        return inserted.first() is not None

    async def close(self, conversation_id: uuid.UUID, at: datetime) -> None:
        await self._s.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id, conversations.c.closed_at.is_(None))
            .values(closed_at=at)
        )

    async def for_user(
        self, user_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None = None, limit: int | None = None
    ) -> list[ConversationSummary]:
        key = (conversations.c.created_at, conversations.c.id)
        query = _summaries(user_id).order_by(*(column.desc() for column in key)).limit(limit)
        if after is not None:
            query = query.where(sa.tuple_(*key) < sa.tuple_(*after))
        rows = await self._s.execute(query)
        return [_summary(r) for r in rows.all()]

    async def summary(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> ConversationSummary | None:
        rows = await self._s.execute(_summaries(user_id).where(conversations.c.id == conversation_id))
        row = rows.one_or_none()
        return _summary(row) if row is not None else None

    async def messages_after(self, conversation_id: uuid.UUID, after_seq: int, limit: int) -> list[StoredMessage]:
        rows = await self._s.execute(
            sa.select(messages)
            .where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
            .order_by(messages.c.seq)
            .limit(limit)
        )
        return [_message(r) for r in rows.all()]

    async def mark_read(self, conversation_id: uuid.UUID, user_id: uuid.UUID, seq: int, at: datetime) -> int:
        result = await self._s.execute(
            pg_insert(conversation_reads)
            .values(conversation_id=conversation_id, user_id=user_id, last_read_seq=seq, updated_at=at)
            .on_conflict_do_update(
                index_elements=[conversation_reads.c.conversation_id, conversation_reads.c.user_id],
                set_={
                    "last_read_seq": sa.func.greatest(conversation_reads.c.last_read_seq, seq),
                    "updated_at": at,
                },
            )
            .returning(conversation_reads.c.last_read_seq)
        )
        return int(result.scalar_one())

    async def read_cursor(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> int:
        value = (
            await self._s.execute(
                sa.select(conversation_reads.c.last_read_seq).where(
                    conversation_reads.c.conversation_id == conversation_id, conversation_reads.c.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        return int(value or 0)

    async def claim_notification(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, now: datetime, throttle: timedelta
    ) -> bool:
        claimed = await self._s.execute(
            pg_insert(message_notifications)
            .values(conversation_id=conversation_id, user_id=user_id, last_sent_at=now)
            .on_conflict_do_update(
                index_elements=[message_notifications.c.conversation_id, message_notifications.c.user_id],
                set_={"last_sent_at": now},
                where=message_notifications.c.last_sent_at <= now - throttle,
            )
            .returning(message_notifications.c.user_id)
        )
        return claimed.first() is not None

    async def release_notification(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, claimed: datetime, previous: datetime | None
    ) -> None:
        mine = (
            (message_notifications.c.conversation_id == conversation_id)
            & (message_notifications.c.user_id == user_id)
            & (message_notifications.c.last_sent_at == claimed)
        )
        if previous is None:
            await self._s.execute(message_notifications.delete().where(mine))
        else:
            await self._s.execute(message_notifications.update().where(mine).values(last_sent_at=previous))

    async def first_unread(
        self, conversation_id: uuid.UUID, user_id: uuid.UUID, after_seq: int, created_after: datetime | None = None
    ) -> tuple[int, datetime] | None:
        query = (
            sa.select(messages.c.seq, messages.c.created_at)
            .where(
                messages.c.conversation_id == conversation_id,
                messages.c.sender_id != user_id,
                messages.c.kind == MessageKind.USER.value,
                messages.c.seq > after_seq,
            )
            .order_by(messages.c.seq)
            .limit(1)
        )
        if created_after is not None:
            query = query.where(messages.c.created_at > created_after)
        row = (await self._s.execute(query)).first()
        return (int(row.seq), row.created_at) if row else None

    async def notified_at(self, conversation_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        return (
            await self._s.execute(
                sa.select(message_notifications.c.last_sent_at).where(
                    message_notifications.c.conversation_id == conversation_id,
                    message_notifications.c.user_id == user_id,
                )
            )
        ).scalar_one_or_none()

    async def away_since(self, therapist_id: uuid.UUID) -> datetime | None:
        since: datetime | None = (
            await self._s.execute(
                sa.select(messaging_settings.c.away_since).where(messaging_settings.c.therapist_id == therapist_id)
            )
        ).scalar_one_or_none()
        return since

    async def set_away(self, therapist_id: uuid.UUID, away: bool, at: datetime) -> None:
        await self._s.execute(
            pg_insert(messaging_settings)
            .values(therapist_id=therapist_id, welcome_template="", away_since=at if away else None, updated_at=at)
            .on_conflict_do_update(
                index_elements=[messaging_settings.c.therapist_id],
                # Switching away on while away keeps the off-period (and its one automatic reply) as it was.
                set_={
                    "away_since": sa.func.coalesce(messaging_settings.c.away_since, at) if away else None,
                    "updated_at": at,
                },
            )
        )

    async def welcome_template(self, therapist_id: uuid.UUID) -> str | None:
        return (
            await self._s.execute(
                sa.select(messaging_settings.c.welcome_template).where(
                    messaging_settings.c.therapist_id == therapist_id
                )
            )
        ).scalar_one_or_none()

    async def set_welcome_template(self, therapist_id: uuid.UUID, template: str, at: datetime) -> None:
        await self._s.execute(
            pg_insert(messaging_settings)
            .values(therapist_id=therapist_id, welcome_template=template, away_since=None, updated_at=at)
            .on_conflict_do_update(
                index_elements=[messaging_settings.c.therapist_id],
                set_={"welcome_template": template, "updated_at": at},
            )
        )


def _summaries(user_id: uuid.UUID) -> sa.Select[Any]:
    """The user's conversations with their unread count and how far the other participant has read."""
    read = conversation_reads.alias("r")
    unread = (
        sa.select(sa.func.count())
        .select_from(messages)
        .where(
            messages.c.conversation_id == conversations.c.id,
            messages.c.sender_id != user_id,
            messages.c.seq > sa.func.coalesce(read.c.last_read_seq, 0),
        )
        .scalar_subquery()
    )
    peer = conversation_reads.alias("p")
    peer_id = sa.case(
        (conversations.c.client_id == user_id, conversations.c.therapist_id), else_=conversations.c.client_id
    )
    return (
        sa.select(conversations, unread.label("unread"), peer.c.last_read_seq.label("peer_read"))
        .outerjoin(read, sa.and_(read.c.conversation_id == conversations.c.id, read.c.user_id == user_id))
        .outerjoin(peer, sa.and_(peer.c.conversation_id == conversations.c.id, peer.c.user_id == peer_id))
        .where(sa.or_(conversations.c.client_id == user_id, conversations.c.therapist_id == user_id))
    )


def _summary(row: sa.Row[Any]) -> ConversationSummary:
    return ConversationSummary(_conversation(row), int(row.unread), int(row.peer_read or 0))
