"""MessageBus over Redis pub/sub (`HEARTH_BUS=redis`), for deployments with many API processes.

- One dedicated pub/sub connection SUBSCRIBEs to the channel (client name `<client_name>-listen`, by default
  `hearth-bus-listen`; the publisher is `<client_name>-publish`). When it drops (`CLIENT KILL`, a Redis restart,
  the network), the loss is logged and the listener reconnects with exponential backoff; events published
  meanwhile are lost, and `on_gap` is called once it is subscribed again. A PING after `health_interval` seconds
  of silence that gets no answer within another `health_interval` counts as a lost connection.
- `publish` uses a separate client (its own connection pool) and retries once on a broken connection. Redis
  has no transactions shared with PostgreSQL: publish after the commit of the rows an event announces.
- Pub/sub channels are global to a Redis server (the URL's database number does not separate them): give each
  deployment sharing a server its own `HEARTH_BUS_CHANNEL`.
- The payload is `BusEvent.encode()` (a kind and ids, see `infra.pubsub.core.encode_event`), never content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.messaging.bus import BusEvent, Handler
from infra.pubsub.core import DEFAULT_CHANNEL, Backoff, Dispatcher, GapHandler, check_channel, encode_event, log

__all__ = ["RedisBus"]


class _Listener:
    def __init__(self, client: Redis, pubsub: PubSub) -> None:
        self.client = client
        self.pubsub = pubsub

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self.client.aclose()


class RedisBus:
    """MessageBus over Redis pub/sub. `url` is a `redis://` or `rediss://` URL (it may hold a password: it is
    never logged)."""

    def __init__(
        self,
        url: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        on_gap: GapHandler | None = None,
        client_name: str = "hearth-bus",
        connect_timeout: float = 10.0,
        publish_timeout: float = 5.0,
        health_interval: float = 15.0,
        reconnect_initial: float = 0.1,
        reconnect_max: float = 5.0,
        max_pending: int = 10_000,
    ) -> None:
        self._url = url
        self._channel = check_channel(channel)
        self._on_gap = on_gap
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._publish_timeout = publish_timeout
        self._health_interval = health_interval
        self._backoff = Backoff(reconnect_initial, reconnect_max)
        self._max_pending = max_pending
        self._publisher: Redis | None = None
        self._dispatcher: Dispatcher | None = None
        self._listener: _Listener | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def channel(self) -> str:
        return self._channel

    async def start(self, handler: Handler) -> None:
        """Subscribe, then return: every event published after this returns reaches `handler`. Raises when
        Redis cannot be reached now; later losses are retried in the background."""
        if self._dispatcher is not None:
            raise RuntimeError("the bus is already started")
        dispatcher = Dispatcher(handler, on_gap=self._on_gap, backend="redis", max_pending=self._max_pending)
        listener = await self._subscribe()
        self._dispatcher = dispatcher
        self._listener = listener
        dispatcher.start()
        self._task = asyncio.create_task(self._serve(dispatcher, listener), name="hearth-bus-subscribe")
        log.info("bus.listening", backend="redis", channel=self._channel)

    async def publish(self, event: BusEvent) -> None:
        payload = encode_event(event)
        if self._publisher is None:
            self._publisher = Redis.from_url(
                self._url,
                socket_connect_timeout=self._connect_timeout,
                socket_timeout=self._publish_timeout,
                socket_keepalive=True,
                client_name=f"{self._client_name}-publish",
            )
        for attempt in (1, 2):
            try:
                await self._publisher.publish(self._channel, payload)
                return
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if attempt == 2:
                    raise
                log.warning("bus.publish_retry", backend="redis", error=type(exc).__name__)

    async def publish_many(self, events: Sequence[BusEvent]) -> None:
        # A handful of events per batch of sends: a pipeline would save little over the awaited publishes.
        for event in events:
            await self.publish(event)

    async def drain(self) -> None:
        """Wait until every event received so far has been handled (tests)."""
        if self._dispatcher is not None:
            await self._dispatcher.drain()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            await dispatcher.stop()
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.aclose()

    async def _subscribe(self) -> _Listener:
        # No retries inside redis-py: a lost connection must surface here, so that it is logged and `on_gap` runs.
        client = Redis.from_url(
            self._url,
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
            socket_keepalive=True,
            client_name=f"{self._client_name}-listen",
            retry=Retry(NoBackoff(), 0),
        )
        listener = _Listener(client, client.pubsub())
        try:
            await listener.pubsub.subscribe(self._channel)
            async with asyncio.timeout(self._connect_timeout):
                while True:  # SUBSCRIBE's confirmation: from here on, every publish reaches us
                    message = await listener.pubsub.get_message(timeout=self._connect_timeout)
                    if message is not None and message["type"] == "subscribe":
                        break
        except BaseException:
            await listener.close()
            raise
        return listener

    async def _serve(self, dispatcher: Dispatcher, listener: _Listener) -> None:
        while True:
            reason = await self._pump(dispatcher, listener.pubsub)
            log.warning("bus.connection_lost", backend="redis", reason=reason)
            await listener.close()
            self._listener = None
            listener = await self._reconnect()
            self._listener = listener
            log.info("bus.reconnected", backend="redis", channel=self._channel)
            dispatcher.gap()

    async def _pump(self, dispatcher: Dispatcher, pubsub: PubSub) -> str:
        """Deliver messages until the connection is lost; return why."""
        awaiting_pong = False
        while True:
            try:
                message: dict[str, Any] | None = await pubsub.get_message(timeout=self._health_interval)
                if message is None:
                    if awaiting_pong:
                        return "no answer to PING"
                    await pubsub.ping()
                    awaiting_pong = True
                    continue
            except Exception as exc:
                return type(exc).__name__
            awaiting_pong = False
            kind = message["type"]
            if kind == "message":
                dispatcher.push_payload(message["data"])
            elif kind == "subscribe":
                # redis-py re-subscribed on a connection of its own making: events may have been lost.
                log.warning("bus.resubscribed", backend="redis")
                dispatcher.gap()

    async def _reconnect(self) -> _Listener:
        self._backoff.reset()
        attempt = 0
        while True:
            await asyncio.sleep(self._backoff.next_delay())
            attempt += 1
            try:
                return await self._subscribe()
            except Exception as exc:
                log.warning("bus.reconnect_failed", backend="redis", attempt=attempt, error=type(exc).__name__)
