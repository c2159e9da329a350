"""The Redis pub/sub bus against a real server: two buses stand for two API processes."""

from __future__ import annotations

import asyncio
import re
import uuid
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from structlog.testing import capture_logs

from domain.messaging.bus import BusEvent
from infra.pubsub.core import InvalidBusEvent
from infra.pubsub.redis import RedisBus
from tests.integration.pubsub.conftest import WAIT, Gaps, Recorder, eventually, message_events
from tests.integration.pubsub.proxy import FreezableProxy


async def client_ids(admin: Redis, name: str) -> list[str]:
    """Ids of the connections whose client name is `name`."""
    listing = await admin.execute_command("CLIENT", "LIST")
    text = listing if isinstance(listing, str) else "\n".join(str(line) for line in listing)
    ids = []
    for line in text.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if fields.get("name") == name:
            ids.append(fields["id"])
    return ids


async def next_message(pubsub) -> dict:
    while True:  # get_message returns None for the (ignored) subscribe confirmation
        message = await pubsub.get_message(timeout=WAIT)
        if message is not None:
            return message


async def test_every_event_reaches_both_processes_in_the_same_order(redis_buses):
    a, b = redis_buses(), redis_buses()
    received_a, received_b = Recorder(), Recorder()
    await a.start(received_a)
    await b.start(received_b)
    from_a = message_events(150, user=uuid.uuid4())
    from_b = message_events(150, user=uuid.uuid4())

    async def send(bus, events):
        for event in events:
            await bus.publish(event)

    await asyncio.gather(send(a, from_a), send(b, from_b))

    await received_a.wait_for(300)
    await received_b.wait_for(300)
    assert received_a.events == received_b.events
    assert [e for e in received_a.events if e.user_id == from_a[0].user_id] == from_a
    assert [e for e in received_a.events if e.user_id == from_b[0].user_id] == from_b
    await asyncio.sleep(0.05)
    assert len(received_a.events) == len(received_b.events) == 300  # nothing twice


async def test_the_listener_comes_back_after_client_kill(redis_buses, redis_admin, client_name):
    gaps = Gaps()
    a, b = redis_buses(on_gap=gaps, client_name=f"{client_name}-a"), redis_buses()
    received = Recorder()
    await a.start(received)
    before, after = message_events(2)
    await b.publish(before)
    await received.wait_for(1)
    old_ids = await client_ids(redis_admin, f"{client_name}-a-listen")
    assert len(old_ids) == 1

    with capture_logs() as logs:
        # Only this test's listener: other runs sharing the server keep theirs.
        killed = await redis_admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub", "ID", old_ids[0])
        assert killed == 1
        await gaps.wait_for(1)  # called once it is subscribed again
        new_ids = await client_ids(redis_admin, f"{client_name}-a-listen")
        assert len(new_ids) == 1 and new_ids != old_ids
        await b.publish(after)
        assert await received.wait_for(2) == [before, after]

    names = [entry["event"] for entry in logs]
    assert "bus.connection_lost" in names and "bus.reconnected" in names


async def test_publish_survives_its_connection_being_killed(redis_buses, redis_admin, client_name):
    bus = redis_buses(client_name=f"{client_name}-p")
    received = Recorder()
    await bus.start(received)
    first, second = message_events(2)
    await bus.publish(first)
    await received.wait_for(1)
    publishers = await client_ids(redis_admin, f"{client_name}-p-publish")
    assert publishers
    for client_id in publishers:
        await redis_admin.execute_command("CLIENT", "KILL", "ID", client_id)

    await bus.publish(second)
    assert await received.wait_for(2) == [first, second]


async def test_a_failing_handler_does_not_stop_later_deliveries(redis_buses):
    bus = redis_buses()
    received = Recorder(fail_when=lambda event: event.seq is not None and event.seq % 2 == 0)
    await bus.start(received)
    events = message_events(20)

    with capture_logs() as logs:
        for event in events:
            await bus.publish(event)
        assert await received.wait_for(20) == events

    assert len([entry for entry in logs if entry["event"] == "bus.handler_failed"]) == 10


@pytest.mark.parametrize(
    "event",
    [
        BusEvent("x" * 9000),
        BusEvent("message: I feel awful tonight"),
        BusEvent("message", conversation_id="I feel awful tonight"),  # type: ignore[arg-type]
        BusEvent("message", seq="I feel awful tonight"),  # type: ignore[arg-type]
    ],
    ids=["oversized", "text-kind", "text-id", "text-seq"],
)
async def test_only_ids_ever_travel_on_the_channel(redis_buses, redis_url, event):
    bus = redis_buses()
    received = Recorder()
    await bus.start(received)
    spy_client = Redis.from_url(redis_url, socket_connect_timeout=2)
    spy = spy_client.pubsub(ignore_subscribe_messages=True)
    try:
        await spy.subscribe(bus.channel)
        good = BusEvent("typing", conversation_id=uuid.uuid4(), user_id=uuid.uuid4())

        with pytest.raises(InvalidBusEvent) as refused:
            await bus.publish(event)
        assert "awful" not in str(refused.value)

        await bus.publish(good)
        assert await received.wait_for(1) == [good]
        raw = await asyncio.wait_for(next_message(spy), WAIT)
        assert raw["data"] == good.encode().encode()
        assert re.fullmatch(rb"typing\|[0-9a-f-]{36}\|\|[0-9a-f-]{36}", raw["data"])
        assert await asyncio.wait_for(spy.get_message(timeout=0.1), 1) is None  # and nothing else
    finally:
        await spy.aclose()
        await spy_client.aclose()


async def test_foreign_messages_on_the_channel_are_dropped(redis_buses, redis_admin):
    bus = redis_buses()
    received = Recorder()
    await bus.start(received)
    (good,) = message_events(1)

    with capture_logs() as logs:
        await redis_admin.publish(bus.channel, "Dear therapist, ...")
        await redis_admin.publish(bus.channel, b"\xff\xfe")
        await bus.publish(good)
        assert await received.wait_for(1) == [good]

    assert len([entry for entry in logs if entry["event"] == "bus.malformed_event"]) == 2


async def test_stop_closes_its_connections(redis_buses, redis_admin, client_name):
    bus = redis_buses(client_name=f"{client_name}-s")
    received = Recorder()
    await bus.start(received)
    await bus.publish(message_events(1)[0])
    await received.wait_for(1)
    assert await client_ids(redis_admin, f"{client_name}-s-listen")
    assert await client_ids(redis_admin, f"{client_name}-s-publish")

    await bus.stop()
    await bus.stop()

    async def none_left() -> bool:
        return not (
            await client_ids(redis_admin, f"{client_name}-s-listen")
            or await client_ids(redis_admin, f"{client_name}-s-publish")
        )

    await eventually(none_left, timeout=WAIT)


async def test_a_silently_dead_listener_is_noticed_and_replaced(redis_buses, redis_url):
    url = urlsplit(redis_url)
    proxy = FreezableProxy(lambda: asyncio.open_connection(url.hostname or "127.0.0.1", url.port or 6379))
    await proxy.start()
    try:
        gaps = Gaps()
        proxied = url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()  # the test server has no password
        a = redis_buses(proxied, on_gap=gaps, health_interval=0.2)
        b = redis_buses()
        received = Recorder()
        await a.start(received)
        before, after = message_events(2)
        await b.publish(before)
        await received.wait_for(1)

        with capture_logs() as logs:
            assert proxy.freeze() == 1  # no FIN, no RST: only the unanswered PING can tell
            await gaps.wait_for(1)
            await b.publish(after)
            assert await received.wait_for(2) == [before, after]

        lost = [entry for entry in logs if entry["event"] == "bus.connection_lost"]
        assert len(lost) == 1 and lost[0]["reason"] == "no answer to PING"
    finally:
        await a.stop()
        await proxy.close()


async def test_a_publish_to_an_unanswering_redis_gives_up_after_two_tries():
    # A Redis that accepts connections and never answers (packets dropped on the way): each try ends at the
    # socket timeout and the bus tries twice. The publish is awaited after each send batch, so a client library
    # retrying on its own (redis-py has a retry policy of its own) would hold every send in the process.
    connections = 0

    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # until the client gives up and closes

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bus = RedisBus(f"redis://127.0.0.1:{port}/0", connect_timeout=1.0, publish_timeout=0.2)
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises((RedisConnectionError, RedisTimeoutError)):
                await bus.publish(message_events(1)[0])
        assert connections == 2
    finally:
        await bus.stop()
        server.close()
        await server.wait_closed()
