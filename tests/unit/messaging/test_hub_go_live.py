"""A socket is live in every conversation of its user from the moment it opens: the doorbells of two processes
arriving out of order must not make it skip the earlier message, whether or not it ever resumed that
conversation; a conversation opened after the socket is delivered whole."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from api.ws.hub import Connection, Hub
from domain.messaging.bus import BusEvent
from domain.messaging.model import Conversation, Message, MessageKind
from domain.messaging.ports import ConversationSummary
from domain.shared.errors import NotFound
from domain.shared.principal import Principal, Role
from tests.unit.messaging.hub_fakes import FakeSocket, settle

CLIENT = uuid.uuid4()
THERAPIST = uuid.uuid4()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class Store:
    """What the database holds: conversations and their messages, as other processes commit them."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Conversation] = {}
        self.history: dict[uuid.UUID, list[Message]] = {}
        self.fail_listing = False

    def open(self) -> Conversation:
        conversation = Conversation(uuid.uuid4(), CLIENT, THERAPIST, uuid.uuid4(), uuid.uuid4(), 0, NOW)
        self.rows[conversation.id] = conversation
        self.history[conversation.id] = []
        for _ in range(3):
            self.commit(conversation.id)
        return conversation

    def commit(self, conversation_id: uuid.UUID) -> int:
        """Another process stores the conversation's next message (no on_stored here: only its doorbell comes)."""
        conversation = self.rows[conversation_id]
        seq = conversation.last_seq + 1
        self.rows[conversation_id] = replace(conversation, last_seq=seq)
        self.history[conversation_id].append(
            Message(uuid.uuid4(), conversation_id, seq, THERAPIST, f"m{seq}", MessageKind.USER, f"#{seq}", NOW)
        )
        return seq

    # The part of MessagingService the hub uses.
    def on_stored(self, _listener: Any) -> None:
        pass

    async def conversations(self, principal: Principal) -> list[ConversationSummary]:
        if self.fail_listing:
            raise ConnectionError("the database is restarting")
        return [ConversationSummary(c, 0) for c in self.rows.values() if c.has(principal.user_id)]

    async def conversation(self, principal: Principal, conversation_id: uuid.UUID) -> Conversation:
        found = self.rows.get(conversation_id)
        if found is None or not found.has(principal.user_id):
            raise NotFound("No such conversation.")
        return found

    async def messages(
        self, principal: Principal, conversation_id: uuid.UUID, after_seq: int, limit: int, *, audit: bool = True
    ) -> list[Message]:
        await self.conversation(principal, conversation_id)
        return [m for m in self.history[conversation_id] if m.seq > after_seq][:limit]


async def _client_socket(store: Store) -> tuple[Hub, FakeSocket, Connection]:
    hub = Hub(store, None, None)  # type: ignore[arg-type]
    socket = FakeSocket()
    connection = Connection(socket, Principal(CLIENT, Role.CLIENT, None))  # type: ignore[arg-type]
    hub.add(connection)
    await hub.go_live(connection)
    return hub, socket, connection


def _seqs(socket: FakeSocket, conversation_id: uuid.UUID) -> list[int]:
    return [
        f["message"]["seq"]
        for f in socket.frames
        if f["type"] == "message" and f["message"]["conversation_id"] == str(conversation_id)
    ]


async def test_doorbells_out_of_order_do_not_skip_the_earlier_message():
    store = Store()
    conversation = store.open()  # seqs 1-3, from before the socket opened
    hub, socket, connection = await _client_socket(store)

    # Process A commits seq 4, process B seq 5; B's doorbell is heard first.
    four, five = store.commit(conversation.id), store.commit(conversation.id)
    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=five))
    await settle(hub)
    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=four))
    await settle(hub)

    assert _seqs(socket, conversation.id) == [4, 5]  # nothing from before the socket, nothing skipped
    assert connection.cursors[conversation.id] == 5


async def test_a_conversation_opened_after_the_socket_is_delivered_from_its_first_message():
    store = Store()
    hub, socket, _ = await _client_socket(store)
    conversation = store.open()  # the welcome and two more, committed together elsewhere
    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=1))
    await settle(hub)
    assert _seqs(socket, conversation.id) == [1, 2, 3]


async def test_another_users_conversation_is_not_delivered():
    store = Store()
    hub, socket, _ = await _client_socket(store)
    stranger = Conversation(uuid.uuid4(), uuid.uuid4(), THERAPIST, uuid.uuid4(), uuid.uuid4(), 0, NOW)
    store.rows[stranger.id] = stranger
    store.history[stranger.id] = []
    store.commit(stranger.id)
    await hub.on_event(BusEvent("message", conversation_id=stranger.id, seq=1))
    await settle(hub)
    assert socket.frames == []


async def test_a_failed_listing_leaves_the_socket_live_from_each_announced_message():
    store = Store()
    conversation = store.open()
    store.fail_listing = True
    hub, socket, connection = await _client_socket(store)
    assert not connection.live
    seq = store.commit(conversation.id)
    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=seq))
    await settle(hub)
    assert _seqs(socket, conversation.id) == [4]
