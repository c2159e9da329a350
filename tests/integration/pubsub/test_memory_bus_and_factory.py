"""The in-memory bus keeps the real adapters' rules; the factory picks the adapter HEARTH_BUS names."""

from __future__ import annotations

import uuid

import pytest

from domain.messaging.bus import BusEvent
from infra.pubsub.core import InvalidBusEvent, encode_event
from infra.pubsub.factory import bus_from_settings
from infra.pubsub.memory import InMemoryBus, InMemoryHub
from infra.pubsub.postgres import PostgresBus
from infra.pubsub.redis import RedisBus
from infra.settings import Settings
from tests.integration.pubsub.conftest import Gaps, Recorder, message_events


async def test_memory_bus_delivers_later_in_order_to_every_bus_on_the_hub():
    hub = InMemoryHub()
    a, b = InMemoryBus(hub), InMemoryBus(hub)
    received_a, received_b = Recorder(), Recorder()
    await a.start(received_a)
    await b.start(received_b)
    events = message_events(50)
    try:
        for event in events:
            await a.publish(event)
        assert received_a.events == []  # through a queue, not inside publish
        assert await received_a.wait_for(50) == events
        assert await received_b.wait_for(50) == events
        assert a.published == events and b.published == []
    finally:
        await a.stop()
        await b.stop()


async def test_memory_bus_survives_a_failing_handler_and_reports_gaps_in_order():
    gaps = Gaps()
    order: list[str] = []

    async def handler(event: BusEvent) -> None:
        order.append(f"event {event.seq}")
        if event.seq == 1:
            raise RuntimeError("boom")

    async def on_gap() -> None:
        order.append("gap")
        await gaps()

    bus = InMemoryBus(on_gap=on_gap)
    await bus.start(handler)
    first, second = message_events(2)
    try:
        await bus.publish(first)
        bus.simulate_gap()
        await bus.publish(second)
        await bus.drain()
        assert order == ["event 1", "gap", "event 2"]
        with pytest.raises(InvalidBusEvent):
            await bus.publish(BusEvent("message", conversation_id="a body"))  # type: ignore[arg-type]
    finally:
        await bus.stop()


async def test_a_handler_far_behind_gets_one_gap_instead_of_the_backlog():
    gaps = Gaps()
    received = Recorder()
    hub = InMemoryHub()
    bus = InMemoryBus(hub, on_gap=gaps, max_pending=5)
    await bus.start(received)
    try:
        for event in message_events(12):  # no await in between that lets the handler run
            hub.deliver(event.encode())
        await bus.drain()
        assert gaps.count >= 1
        assert len(received.events) < 12
    finally:
        await bus.stop()


def test_the_factory_builds_the_configured_bus():
    memory = bus_from_settings(Settings(bus="memory"))
    assert isinstance(memory, InMemoryBus)

    redis = bus_from_settings(Settings(bus="redis", redis_url="redis://cache:6380/2", bus_channel="hearth_b"))
    assert isinstance(redis, RedisBus) and redis.channel == "hearth_b"

    postgres = bus_from_settings(Settings(bus="postgres", database_url="postgresql://u:p@db/hearth"))
    assert isinstance(postgres, PostgresBus) and postgres.channel == "hearth_bus"

    embedded = bus_from_settings(Settings(database_url=None), database_url="postgresql://u@localhost/x")
    assert isinstance(embedded, PostgresBus)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        bus_from_settings(Settings(database_url=None))


def test_settings_read_the_bus_from_the_environment(monkeypatch):
    monkeypatch.setenv("HEARTH_BUS", "redis")
    monkeypatch.setenv("HEARTH_REDIS_URL", "redis://r:1/0")
    monkeypatch.setenv("HEARTH_BUS_CHANNEL", "hearth_two")
    settings = Settings()
    assert (settings.bus, settings.redis_url, settings.bus_channel) == ("redis", "redis://r:1/0", "hearth_two")
    monkeypatch.setenv("HEARTH_BUS", "kafka")
    with pytest.raises(ValueError, match="bus"):
        Settings()
    monkeypatch.setenv("HEARTH_BUS", "postgres")
    monkeypatch.setenv("HEARTH_BUS_CHANNEL", "Hearth Bus; DROP")
    with pytest.raises(ValueError, match="bus_channel"):
        Settings()


@pytest.mark.parametrize("kind", ["message", "read", "typing", "alert", "session_end"])
def test_every_documented_kind_encodes(kind):
    event = BusEvent(kind, conversation_id=uuid.uuid4(), seq=12, user_id=uuid.uuid4())
    assert BusEvent.decode(encode_event(event)) == event
