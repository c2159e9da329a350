"""The PostgreSQL LISTEN/NOTIFY bus against a real server: two buses stand for two API processes."""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from domain.messaging.bus import BusEvent
from infra.jobs.queue import asyncpg_dsn
from infra.pubsub.core import InvalidBusEvent
from infra.pubsub.postgres import publish_in
from tests.integration.pubsub.conftest import WAIT, Gaps, Recorder, eventually, message_events
from tests.integration.pubsub.proxy import FreezableProxy

IDS_ONLY = re.compile(r"[a-z_]+\|[0-9a-f-]{36}\|[0-9]+\|")


@pytest.fixture
async def admin(database_url: str):
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    yield conn
    await conn.close()


async def test_every_event_reaches_both_processes_in_the_same_order(pg_buses):
    a, b = pg_buses(), pg_buses()
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
    # One commit order, seen identically by every listener; each publisher's events in its own order.
    assert received_a.events == received_b.events
    assert [e for e in received_a.events if e.user_id == from_a[0].user_id] == from_a
    assert [e for e in received_a.events if e.user_id == from_b[0].user_id] == from_b
    await asyncio.sleep(0.05)
    assert len(received_a.events) == len(received_b.events) == 300  # nothing twice


async def test_notify_in_a_transaction_is_delivered_on_commit_and_never_on_rollback(pg_buses, admin):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    in_tx, rolled_back, marker_1, marker_2 = message_events(4)

    async with admin.transaction():
        await bus.publish_in(admin, in_tx)
        await bus.publish(marker_1)  # autocommit, on another connection: overtakes the open transaction
        assert await received.wait_for(1) == [marker_1]
    assert await received.wait_for(2) == [marker_1, in_tx]

    tx = admin.transaction()
    await tx.start()
    await publish_in(admin, rolled_back, channel=bus.channel)
    await tx.rollback()
    await bus.publish(marker_2)
    # NOTIFYs arrive in commit order: had the rolled-back one been sent, it would come before marker_2.
    assert await received.wait_for(3) == [marker_1, in_tx, marker_2]


async def test_publish_in_refuses_a_connection_outside_a_transaction(pg_buses, admin):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    early, marker = message_events(2)

    with pytest.raises(RuntimeError, match="inside a transaction"):
        await bus.publish_in(admin, early)

    await bus.publish(marker)
    assert await received.wait_for(1) == [marker]


async def test_the_listener_comes_back_after_its_backend_is_terminated(pg_buses, admin):
    gaps = Gaps()
    a, b = pg_buses(on_gap=gaps), pg_buses()
    received = Recorder()
    await a.start(received)
    before, after = message_events(2)
    await b.publish(before)
    await received.wait_for(1)
    old_pid = a.listener_pid
    assert old_pid is not None

    with capture_logs() as logs:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", old_pid) is True
        await gaps.wait_for(1)  # called once the new connection LISTENs
        new_pid = a.listener_pid
        assert new_pid is not None and new_pid != old_pid
        await b.publish(after)
        assert await received.wait_for(2) == [before, after]

    names = [entry["event"] for entry in logs]
    assert "bus.connection_lost" in names and "bus.reconnected" in names
    lost = next(entry for entry in logs if entry["event"] == "bus.connection_lost")
    assert lost["log_level"] == "warning"


async def test_publish_survives_its_pooled_connection_being_terminated(pg_buses, admin):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    first, second = message_events(2)
    await bus.publish(first)
    await received.wait_for(1)

    killed = await admin.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = 'hearth-bus-publish'"
    )
    assert killed >= 1
    await bus.publish(second)
    assert await received.wait_for(2) == [first, second]


async def test_a_failing_handler_does_not_stop_later_deliveries(pg_buses):
    bus = pg_buses()
    received = Recorder(fail_when=lambda event: event.seq is not None and event.seq % 2 == 0)
    await bus.start(received)
    events = message_events(20)

    with capture_logs() as logs:
        for event in events:
            await bus.publish(event)
        assert await received.wait_for(20) == events

    failures = [entry for entry in logs if entry["event"] == "bus.handler_failed"]
    assert len(failures) == 10
    assert failures[0]["error"] == "RuntimeError" and failures[0]["kind"] == "message"


@pytest.mark.parametrize(
    "event",
    [
        BusEvent("x" * 9000),
        BusEvent("message: I feel awful tonight"),
        BusEvent("message|x"),
        BusEvent("message", conversation_id="I feel awful tonight"),  # type: ignore[arg-type]
        BusEvent("message", seq="I feel awful tonight"),  # type: ignore[arg-type]
        BusEvent("message", seq=-1),
        BusEvent(""),
    ],
    ids=["oversized", "text-kind", "separator-in-kind", "text-id", "text-seq", "negative-seq", "empty-kind"],
)
async def test_only_ids_ever_travel_on_the_channel(pg_buses, admin, database_url, event):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    raw: list[str] = []
    spy = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await spy.add_listener(bus.channel, lambda _c, _p, _ch, payload: raw.append(payload))
        good = BusEvent("read", conversation_id=uuid.uuid4(), seq=7, user_id=uuid.uuid4())

        with pytest.raises(InvalidBusEvent) as refused:
            await bus.publish(event)
        assert "awful" not in str(refused.value)
        async with admin.transaction():
            with pytest.raises(InvalidBusEvent):
                await bus.publish_in(admin, event)
        with pytest.raises(InvalidBusEvent):
            await bus.publish("message|||")  # type: ignore[arg-type]

        await bus.publish(good)
        assert await received.wait_for(1) == [good]
        await eventually(lambda: _true_if(raw))
        assert raw == [good.encode()]
        assert re.fullmatch(r"read\|[0-9a-f-]{36}\|7\|[0-9a-f-]{36}", raw[0])
    finally:
        await spy.close()


async def _true_if(items: list[str]) -> bool:
    return bool(items)


async def test_the_oversized_payload_is_refused_for_its_size(pg_buses):
    bus = pg_buses()
    with pytest.raises(InvalidBusEvent, match="at most 7999 bytes"):
        await bus.publish(BusEvent("message" * 2000))


async def test_foreign_notifications_on_the_channel_are_dropped(pg_buses, admin):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    (good,) = message_events(1)

    with capture_logs() as logs:
        await admin.execute("SELECT pg_notify($1, $2)", bus.channel, "Dear therapist, ...")
        await admin.execute("SELECT pg_notify($1, $2)", bus.channel, "message|not-a-uuid||")
        await bus.publish(good)
        assert await received.wait_for(1) == [good]

    malformed = [entry for entry in logs if entry["event"] == "bus.malformed_event"]
    assert len(malformed) == 2
    assert all("Dear" not in str(entry) for entry in logs)
    assert IDS_ONLY.fullmatch(good.encode())


async def test_stop_closes_every_connection_and_start_runs_once(pg_buses, admin):
    bus = pg_buses()
    received = Recorder()
    await bus.start(received)
    with pytest.raises(RuntimeError, match="already started"):
        await bus.start(received)
    await bus.publish(message_events(1)[0])
    await received.wait_for(1)

    async def bus_connections() -> int:
        return int(
            await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'hearth-bus-%'"
            )
        )

    assert await bus_connections() == 2  # the listener and the publish pool's one connection
    await bus.stop()
    await bus.stop()  # idempotent
    assert bus.listener_pid is None

    async def none_left() -> bool:
        return await bus_connections() == 0

    await eventually(none_left, timeout=WAIT)


async def test_a_silently_dead_listener_is_noticed_and_replaced(pg_buses, admin, database_url):
    url = make_url(database_url)
    socket_dir = url.query.get("host")
    port = int(await admin.fetchval("SHOW port"))

    async def upstream():
        if socket_dir:
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(url.host, port)

    proxy = FreezableProxy(upstream)
    await proxy.start()
    try:
        through_proxy = url.set(host="127.0.0.1", port=proxy.port, query={})
        gaps = Gaps()
        proxied = through_proxy.render_as_string(hide_password=False)
        a = pg_buses(proxied, on_gap=gaps, health_interval=0.2, connect_timeout=0.5)
        b = pg_buses()
        received = Recorder()
        await a.start(received)
        before, after = message_events(2)
        await b.publish(before)
        await received.wait_for(1)
        old_pid = a.listener_pid

        with capture_logs() as logs:
            assert proxy.freeze() == 1  # no FIN, no RST: only the health check can tell
            await gaps.wait_for(1)
            assert a.listener_pid not in (None, old_pid)
            await b.publish(after)
            assert await received.wait_for(2) == [before, after]

        lost = [entry for entry in logs if entry["event"] == "bus.connection_lost"]
        assert len(lost) == 1 and lost[0]["reason"].startswith("health check failed")
    finally:
        await a.stop()
        await proxy.close()
