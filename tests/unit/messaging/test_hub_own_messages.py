"""The hub's live push skips, on the socket that sent a message, only that message (its `ack` carries it): not a
message the user's other device sent into another conversation with the same client_message_id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from api.ws.hub import Connection, Hub
from domain.messaging.bus import BusEvent
from domain.messaging.model import Conversation, Message, MessageKind
from domain.shared.principal import Principal, Role
from tests.unit.messaging.hub_fakes import FakeSocket, settle

THERAPIST = uuid.uuid4()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _conversation() -> Conversation:
    return Conversation(uuid.uuid4(), uuid.uuid4(), THERAPIST, uuid.uuid4(), uuid.uuid4(), 0, NOW)


def _message(conversation: Conversation, seq: int, client_message_id: str) -> Message:
    return Message(uuid.uuid4(), conversation.id, seq, THERAPIST, client_message_id, MessageKind.USER, "hi", NOW)


def _laptop(hub: Hub) -> tuple[FakeSocket, Connection]:
    """The therapist's socket on their laptop, added to `hub`."""
    socket = FakeSocket()
    laptop = Connection(socket, Principal(THERAPIST, Role.THERAPIST, uuid.uuid4()))  # type: ignore[arg-type]
    hub.add(laptop)
    return socket, laptop


def _hub() -> Hub:
    return Hub(SimpleNamespace(on_stored=lambda _listener: None), None, None)  # type: ignore[arg-type]


async def test_only_the_message_this_socket_sent_is_left_to_its_ack():
    hub = _hub()
    first, second = _conversation(), _conversation()
    socket, laptop = _laptop(hub)
    laptop.cursors.update({first.id: 4, second.id: 7})
    laptop.sending.add((first.id, "same-id"))  # the laptop is sending "same-id" into the first conversation

    # Meanwhile the therapist's phone used the same client_message_id in the second conversation.
    hub.on_stored(second, [_message(second, 8, "same-id")])
    await settle(hub)
    assert [(f["type"], f["message"]["seq"]) for f in socket.frames] == [("message", 8)]
    assert laptop.cursors[second.id] == 8

    # The laptop's own message: no frame, its ack carries it; the cursor still moves on.
    hub.on_stored(first, [_message(first, 5, "same-id")])
    await settle(hub)
    assert len(socket.frames) == 1
    assert laptop.cursors[first.id] == 5 and not laptop.sending


async def test_a_batch_mixing_own_and_other_messages_pushes_the_others_in_order():
    hub = _hub()
    conversation = _conversation()
    socket, laptop = _laptop(hub)
    laptop.cursors[conversation.id] = 1
    laptop.sending.add((conversation.id, "mine"))
    stored = [_message(conversation, 2, "phone-1"), _message(conversation, 3, "mine"), _message(conversation, 4, "x")]

    hub.on_stored(conversation, stored)
    await settle(hub)
    assert [f["message"]["seq"] for f in socket.frames] == [2, 4]
    assert laptop.cursors[conversation.id] == 4 and not laptop.sending


async def test_a_doorbell_for_what_the_socket_already_has_starts_no_delivery():
    # The doorbell of a message this process pushed from memory comes back over the bus: nothing to read then.
    hub = _hub()
    conversation = _conversation()
    _, laptop = _laptop(hub)
    hub.on_stored(conversation, [_message(conversation, 1, "phone-1")])
    await settle(hub)
    assert laptop.cursors[conversation.id] == 1

    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=1))
    assert not hub._tasks  # no delivery spawned: the socket's cursor is already at seq 1

    await hub.on_event(BusEvent("message", conversation_id=conversation.id, seq=2))
    assert len(hub._tasks) == 1  # a message it has not seen: delivered (read from the database)
    for task in hub._tasks:
        task.cancel()
