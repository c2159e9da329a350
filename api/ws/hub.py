"""Each process's live sockets. The bus rings the doorbell (ids only); every socket then pulls what it has not
seen from the database through the same access rules as REST, so delivery is gap-free and never duplicated.

A message sent through this process is also handed to the hub right after its commit (`on_stored`): a socket of
one of the conversation's two participants whose cursor is exactly before it gets it from memory, without a read
transaction; any other socket (behind, or not yet live in that conversation) pulls from the database as before.
The doorbell for it then finds the socket's cursor already past the announced seq and reads nothing."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import WebSocket
from pydantic import BaseModel

from api.schemas.messaging import MessageFrame, MessageOut, ReadEventFrame, ResumedFrame, TypingEventFrame
from api.ws import calls
from domain.identity.service import IdentityService
from domain.messaging.bus import BusEvent
from domain.messaging.model import Conversation, Message
from domain.messaging.service import MAX_PAGE, MessagingService
from domain.sessions.notify import CALL_SIGNAL, SESSION_CHANGED
from domain.sessions.service import SessionService
from domain.shared.errors import DomainError
from domain.shared.principal import Principal

log = structlog.get_logger("hearth.ws")


@dataclass
class TokenBucket:
    """Per-user frame rate limit: `rate` frames a second, bursts up to `capacity`."""

    rate: float = 20.0
    capacity: float = 60.0
    tokens: float = 60.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def wait(self) -> float:
        """Seconds until `take` can succeed again, as of its last call."""
        return max(0.0, (1 - self.tokens) / self.rate)


class Connection:
    def __init__(self, socket: WebSocket, principal: Principal) -> None:
        self.socket = socket
        self.principal = principal
        self.cursors: dict[uuid.UUID, int] = {}
        self.membership: dict[uuid.UUID, bool] = {}
        self.lock = asyncio.Lock()  # one delivery at a time keeps frames in seq order
        # (conversation, client_message_id) of messages this socket sent, whose `ack` carries them: the push skips
        # them (see Hub._push). Keyed by conversation too: the user's other device may use the same id elsewhere.
        self.sending: set[tuple[uuid.UUID, str]] = set()
        self.calls = calls.CallState()
        # True once `Hub.go_live` has set a cursor for every conversation the user had when the socket opened: any
        # conversation without a cursor is then newer than the socket, so all of it is delivered.
        self.live = False

    def start_of(self, conversation_id: uuid.UUID, announced: int) -> int:
        """The seq after which this socket has had everything of `conversation_id`: its cursor; for a conversation
        it has none for, 0 once live (the conversation is new), else just before the announced message."""
        known = self.cursors.get(conversation_id)
        if known is not None:
            return known
        return 0 if self.live else max(0, announced - 1)

    async def send(self, frame: BaseModel) -> None:
        await self.socket.send_text(frame.model_dump_json())

    def sent_here(self, message: Message) -> bool:
        """Whether this socket sent `message` and is awaiting (or got) its `ack`."""
        return (
            message.sender_id == self.principal.user_id
            and (message.conversation_id, message.client_message_id) in self.sending
        )

    def forget_sent(self, stored: Sequence[Message]) -> None:
        self.sending.difference_update((m.conversation_id, m.client_message_id) for m in stored)


# How many conversations' participant pairs a process remembers (about 100 bytes each).
_KNOWN_CONVERSATIONS = 100_000


class Hub:
    def __init__(self, messaging: MessagingService, identity: IdentityService, sessions: SessionService) -> None:
        self._messaging = messaging
        self.sessions = sessions
        self._identity = identity
        self._by_user: dict[uuid.UUID, set[Connection]] = defaultdict(set)
        self._buckets: dict[uuid.UUID, TokenBucket] = defaultdict(TokenBucket)
        self._tasks: set[asyncio.Task[Any]] = set()
        # A conversation's two participants never change: who to ring for it, once this process has seen it.
        self._participants: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
        messaging.on_stored(self.on_stored)

    def add(self, connection: Connection) -> None:
        self._by_user[connection.principal.user_id].add(connection)

    def remove(self, connection: Connection) -> None:
        sockets = self._by_user.get(connection.principal.user_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                self._by_user.pop(connection.principal.user_id, None)
        if connection.calls.cursors:
            self._spawn(calls.leave_all(self.sessions, connection))

    async def go_live(self, connection: Connection) -> None:
        """Right after `add`: a cursor at each of the user's conversations' current end, so every later message
        reaches the socket whatever order the doorbells of different processes arrive in. Without it a socket
        that never resumed a conversation went live from the first doorbell it heard, and an earlier message
        another process committed (and rang) later was skipped as already past. Deliveries wait on the lock."""
        async with connection.lock:
            try:
                summaries = await self._messaging.conversations(connection.principal)
            except Exception as exc:  # the socket still works, live from each announced message as before
                log.warning("ws.go_live_failed", error_type=type(exc).__name__)
                return
            for summary in summaries:
                conversation = summary.conversation
                # A delivery that got in first (its doorbell rang before this read) moved the cursor on already.
                connection.cursors.setdefault(conversation.id, conversation.last_seq)
                connection.membership[conversation.id] = True
                self._remember(conversation)
            connection.live = True

    def allow(self, principal: Principal) -> bool:
        return self._buckets[principal.user_id].take()

    def retry_after(self, principal: Principal) -> float:
        """After `allow` refused: seconds until the user may send a frame again, rounded up to the millisecond so
        that it never tells a client to come back too early."""
        return math.ceil(self._buckets[principal.user_id].wait() * 1000) / 1000

    @property
    def connections(self) -> int:
        return sum(len(v) for v in self._by_user.values())

    async def on_event(self, event: BusEvent) -> None:
        """Bus handler: fan the doorbell out to the local sockets it concerns."""
        if event.kind == "session_end" and event.user_id is not None:
            for connection in list(self._by_user.get(event.user_id, ())):
                self._spawn(self.check_session(connection))
            return
        if event.conversation_id is None:
            return
        if event.kind in (SESSION_CHANGED, CALL_SIGNAL):
            # For sessions the id slot holds the appointment, and user_id the participant to ring.
            for connection in list(self._by_user.get(event.user_id, ())) if event.user_id else []:
                if event.kind == SESSION_CHANGED:
                    self._spawn(calls.push_update(self.sessions, connection, event.conversation_id))
                elif event.conversation_id in connection.calls.cursors:
                    self._spawn(calls.pull(self.sessions, connection, event.conversation_id))
            return
        pair = self._participants.get(event.conversation_id)
        if event.kind == "message" and event.user_id is not None:
            # Rung for one participant (a new conversation's welcome message): only their sockets.
            concerned = list(self._by_user.get(event.user_id, ()))
        elif pair is not None:
            concerned = [c for user in pair for c in self._by_user.get(user, ())]
        else:
            concerned = [c for conns in self._by_user.values() for c in conns]
        for connection in concerned:
            if event.kind == "message":
                known = connection.cursors.get(event.conversation_id)
                if known is not None and event.seq is not None and known >= event.seq:
                    # Already delivered (pushed from memory by this process, or read): cursors only move on, so
                    # `deliver` would find the same. Checked here to spare a task per doorbell of our own sends.
                    continue
                self._spawn(self.deliver(connection, event.conversation_id, event.seq))
            elif event.kind in ("read", "typing") and event.user_id != connection.principal.user_id:
                self._spawn(self._relay(connection, event))

    def on_stored(self, conversation: Conversation, stored: Sequence[Message]) -> None:
        """Called by the messaging service in this process right after a commit: push from memory."""
        self._remember(conversation)
        for user in (conversation.client_id, conversation.therapist_id):
            for connection in list(self._by_user.get(user, ())):
                if not self._skip_own(connection, conversation.id, stored):
                    self._spawn(self._push(connection, conversation.id, list(stored)))

    def _remember(self, conversation: Conversation) -> None:
        self._participants[conversation.id] = (conversation.client_id, conversation.therapist_id)
        if len(self._participants) > _KNOWN_CONVERSATIONS:
            # Forget the oldest: a miss only fans the doorbell out to every local socket, which re-check access.
            del self._participants[next(iter(self._participants))]

    @staticmethod
    def _skip_own(connection: Connection, conversation_id: uuid.UUID, stored: Sequence[Message]) -> bool:
        """The common case done at once, without a task: a socket right at the conversation's end whose only new
        messages are the ones it sent itself, which their `ack`s carry. True when nothing is left to push."""
        if connection.lock.locked() or connection.cursors.get(conversation_id) != stored[0].seq - 1:
            return False
        if not all(connection.sent_here(m) for m in stored):
            return False
        connection.forget_sent(stored)
        connection.cursors[conversation_id] = stored[-1].seq
        return True

    async def _push(self, connection: Connection, conversation_id: uuid.UUID, stored: list[Message]) -> None:
        # The socket's user is one of the conversation's participants (on_stored picked it by them): the same
        # rule `_participates` checks through the domain.
        connection.membership[conversation_id] = True
        async with connection.lock:
            after = connection.start_of(conversation_id, stored[0].seq)
            if after >= stored[-1].seq or after < stored[0].seq - 1:
                # Already delivered (its doorbell came first), or the socket is behind and what lies between is
                # only in the database: its own messages come with that read like any other.
                connection.forget_sent(stored)
                pull = after < stored[0].seq - 1
            else:
                pull = False
                try:
                    for message in stored:
                        if message.seq <= after:
                            continue
                        if connection.sent_here(message):
                            connection.forget_sent([message])  # its ack says so
                        else:
                            await connection.send(MessageFrame(message=MessageOut.of(message)))
                        after = message.seq
                except Exception as exc:  # a closed socket mid-delivery
                    log.info("ws.deliver_failed", error_type=type(exc).__name__)
                connection.cursors[conversation_id] = after
        if pull:
            await self.deliver(connection, conversation_id, stored[0].seq)

    async def _participates(self, connection: Connection, conversation_id: uuid.UUID) -> bool:
        """Re-checked through the domain once per socket and conversation, then remembered."""
        known = connection.membership.get(conversation_id)
        if known is None:
            try:
                await self._messaging.conversation(connection.principal, conversation_id)
                known = True
            except DomainError:
                known = False
            connection.membership[conversation_id] = known
        return known

    async def on_gap(self) -> None:
        """The bus lost events (a listener reconnected): every socket pulls what it may have missed."""
        for connection in [c for conns in self._by_user.values() for c in conns]:
            for conversation_id in list(connection.cursors):
                self._spawn(self.deliver(connection, conversation_id, None))
            for appointment_id in list(connection.calls.cursors):
                self._spawn(calls.pull(self.sessions, connection, appointment_id))

    async def deliver(self, connection: Connection, conversation_id: uuid.UUID, seq: int | None) -> None:
        if not await self._participates(connection, conversation_id):
            return
        async with connection.lock:
            known = connection.cursors.get(conversation_id)
            if known is None and seq is None and not connection.live:
                return
            if known is not None and seq is not None and known >= seq:
                # Everything committed with `seq` was delivered with it (a commit is read, or pushed, whole).
                return
            after = connection.start_of(conversation_id, seq or 1)
            try:
                while True:
                    page = await self._messaging.messages(
                        connection.principal, conversation_id, after, MAX_PAGE, audit=False
                    )
                    for message in page:
                        await connection.send(MessageFrame(message=MessageOut.of(message)))
                        after = message.seq
                    connection.cursors[conversation_id] = after
                    if len(page) < MAX_PAGE:
                        return
            except DomainError:
                connection.cursors.pop(conversation_id, None)  # not theirs: never deliver
            except Exception as exc:  # a closed socket mid-delivery
                log.info("ws.deliver_failed", error_type=type(exc).__name__)

    async def resume(self, connection: Connection, conversation_id: uuid.UUID, after_seq: int) -> None:
        async with connection.lock:
            after = after_seq
            while True:
                page = await self._messaging.messages(connection.principal, conversation_id, after, MAX_PAGE)
                for message in page:
                    await connection.send(MessageFrame(message=MessageOut.of(message)))
                    after = message.seq
                if not page and after == after_seq > 0:
                    # Nothing after the client's seq: it may claim more than the conversation holds (a seq of
                    # another conversation, a stale cache). A cursor past the end would skip every message up to
                    # that seq when it comes, and `resumed` would name a seq that does not exist: resume from the
                    # real end instead (read again after it, for a message committed since the read above).
                    end = (await self._messaging.conversation(connection.principal, conversation_id)).last_seq
                    if end < after:
                        after = end
                        continue
                if len(page) < MAX_PAGE:
                    break
            connection.cursors[conversation_id] = after
            await connection.send(ResumedFrame(conversation_id=conversation_id, last_seq=after))

    async def _relay(self, connection: Connection, event: BusEvent) -> None:
        assert event.conversation_id is not None and event.user_id is not None
        if not await self._participates(connection, event.conversation_id):
            return
        frame: BaseModel
        if event.kind == "read":
            frame = ReadEventFrame(conversation_id=event.conversation_id, user_id=event.user_id, seq=event.seq or 0)
        else:
            frame = TypingEventFrame(conversation_id=event.conversation_id, user_id=event.user_id)
        with contextlib.suppress(Exception):
            await connection.send(frame)

    async def check_session(self, connection: Connection) -> bool:
        if await self._identity.session_active(connection.principal):
            return True
        with contextlib.suppress(Exception):
            await connection.socket.close(code=4401, reason="session ended")
        return False

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
