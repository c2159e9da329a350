"""Buses against the real servers: PostgreSQL (the shared `database_url` fixture, a database per test) and the
Redis at HEARTH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0; a unique channel and client name per test, so
parallel runs do not mix)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from domain.messaging.bus import BusEvent
from infra.pubsub.postgres import PostgresBus
from infra.pubsub.redis import RedisBus

WAIT = 10.0  # seconds: the upper bound of every wait in these tests


class Recorder:
    """A bus handler that records events; `fail_when(event)` makes it raise after recording."""

    def __init__(self, fail_when: Callable[[BusEvent], bool] | None = None) -> None:
        self.events: list[BusEvent] = []
        self._fail_when = fail_when
        self._changed = asyncio.Event()

    async def __call__(self, event: BusEvent) -> None:
        self.events.append(event)
        self._changed.set()
        if self._fail_when is not None and self._fail_when(event):
            raise RuntimeError("handler failure for the test")

    async def wait_for(self, count: int, timeout: float = WAIT) -> list[BusEvent]:
        async def enough() -> None:
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.events


class Gaps:
    """An `on_gap` callback that counts its calls."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Event()

    async def __call__(self) -> None:
        self.count += 1
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = WAIT) -> None:
        async def enough() -> None:
            while self.count < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(enough(), timeout)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = WAIT, step: float = 0.02) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(step)

    await asyncio.wait_for(poll(), timeout)


def message_events(count: int, user: uuid.UUID | None = None) -> list[BusEvent]:
    conversation = uuid.uuid4()
    return [BusEvent("message", conversation_id=conversation, seq=i, user_id=user) for i in range(1, count + 1)]


@pytest.fixture
def channel() -> str:
    return f"hearth_t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def pg_buses(database_url: str, channel: str) -> AsyncIterator[Callable[..., PostgresBus]]:
    made: list[PostgresBus] = []

    def make(url: str | None = None, **kwargs: Any) -> PostgresBus:
        kwargs.setdefault("channel", channel)
        kwargs.setdefault("reconnect_initial", 0.05)
        kwargs.setdefault("reconnect_max", 0.5)
        bus = PostgresBus(url or database_url, **kwargs)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.stop()


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    url = os.environ.get("HEARTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # a missing Redis must fail the run, not silently skip these tests
        pytest.fail(f"the Redis bus tests need a Redis server at HEARTH_TEST_REDIS_URL ({type(exc).__name__})")
    finally:
        await client.aclose()
    yield url


@pytest.fixture
async def redis_admin(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, socket_connect_timeout=2, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def client_name() -> str:
    return f"hearth-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_buses(redis_url: str, channel: str, client_name: str) -> AsyncIterator[Callable[..., RedisBus]]:
    made: list[RedisBus] = []

    def make(url: str | None = None, **kwargs: Any) -> RedisBus:
        kwargs.setdefault("channel", channel)
        kwargs.setdefault("client_name", f"{client_name}-{len(made)}")
        kwargs.setdefault("reconnect_initial", 0.05)
        kwargs.setdefault("reconnect_max", 0.5)
        bus = RedisBus(url or redis_url, **kwargs)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.stop()
