"""The default MessageBus: PostgreSQL LISTEN/NOTIFY through asyncpg (no extra service to run).

- One dedicated connection LISTENs on the channel (application_name `hearth-bus-listen`). When it drops (server
  restart, `pg_terminate_backend`, network), the loss is logged and the listener reconnects with exponential
  backoff; events NOTIFYed meanwhile are lost, and `on_gap` is called once it listens again. A health query every
  `health_interval` seconds catches connections that died silently.
- `publish` sends `SELECT pg_notify(channel, payload)` on a small pool of its own (application_name
  `hearth-bus-publish`, opened on first use), or on `pool` when one is given. It retries once on a broken
  connection (a repeated doorbell is harmless: receivers read from the database).
- `publish_in(connection, event)` NOTIFYs inside the caller's transaction: PostgreSQL delivers it when that
  transaction commits, and never when it rolls back, so a receiver woken by it always finds the committed rows.
  Use it for events about rows written in that transaction (`infra.jobs.queue.driver_connection` gives the
  asyncpg connection under a SQLAlchemy session). Identical notifications in one transaction are delivered once.
- The payload is `BusEvent.encode()`: a kind and ids (see `infra.pubsub.core.encode_event`), never content.
  NOTIFY channels are per database, so deployments sharing a server do not hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncpg

from domain.messaging.bus import BusEvent, Handler
from infra.jobs.queue import asyncpg_dsn
from infra.pubsub.core import DEFAULT_CHANNEL, Backoff, Dispatcher, GapHandler, check_channel, encode_event, log

__all__ = ["PostgresBus", "publish_in"]

_NOTIFY = "SELECT pg_notify($1, $2)"
_NOTIFY_MANY = "SELECT count(pg_notify($1, payload)) FROM unnest($2::text[]) AS e(payload)"
_BROKEN_CONNECTION = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,  # ConnectionDoesNotExistError: the connection was closed under us
    asyncpg.InternalClientError,  # the server's goodbye arrived, the socket's end not yet
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, pg_terminate_backend
)


async def publish_in(connection: asyncpg.Connection, event: BusEvent, *, channel: str = DEFAULT_CHANNEL) -> None:
    """NOTIFY `event` inside `connection`'s open transaction: delivered on commit, never on rollback.

    Refuses a connection outside a transaction (the event would be delivered at once, before the rows it
    announces are visible) and an event that is not ids only (`InvalidBusEvent`)."""
    payload = encode_event(event)
    if not connection.is_in_transaction():
        raise RuntimeError("publish_in needs a connection inside a transaction; use publish() otherwise")
    await connection.execute(_NOTIFY, check_channel(channel), payload)


async def _keep_as_is(_connection: asyncpg.Connection) -> None:
    return None


class PostgresBus:
    """MessageBus over LISTEN/NOTIFY. `database_url` is the operator's `postgresql://` URL (or SQLAlchemy's
    `postgresql+asyncpg://` form)."""

    def __init__(
        self,
        database_url: str,
        *,
        channel: str = DEFAULT_CHANNEL,
        pool: asyncpg.Pool | None = None,
        on_gap: GapHandler | None = None,
        publish_pool_size: int = 4,
        connect_timeout: float = 10.0,
        publish_timeout: float = 5.0,
        health_interval: float = 15.0,
        reconnect_initial: float = 0.1,
        reconnect_max: float = 5.0,
        max_pending: int = 10_000,
    ) -> None:
        if publish_pool_size < 1:
            raise ValueError("publish_pool_size is at least 1")
        self._dsn = asyncpg_dsn(database_url)
        self._channel = check_channel(channel)
        self._pool = pool
        self._owns_pool = pool is None
        self._pool_lock = asyncio.Lock()
        self._on_gap = on_gap
        self._publish_pool_size = publish_pool_size
        self._connect_timeout = connect_timeout
        self._publish_timeout = publish_timeout
        self._health_interval = health_interval
        self._backoff = Backoff(reconnect_initial, reconnect_max)
        self._max_pending = max_pending
        self._dispatcher: Dispatcher | None = None
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def channel(self) -> str:
        return self._channel

    @property
    def listener_pid(self) -> int | None:
        """The server process id of the LISTEN connection (None while disconnected)."""
        conn = self._listener
        return None if conn is None or conn.is_closed() else conn.get_server_pid()

    async def start(self, handler: Handler) -> None:
        """Listen, then return: every event published after this returns reaches `handler`. Raises when the
        database cannot be reached now; later losses are retried in the background."""
        if self._dispatcher is not None:
            raise RuntimeError("the bus is already started")
        dispatcher = Dispatcher(handler, on_gap=self._on_gap, backend="postgres", max_pending=self._max_pending)
        conn, lost = await self._listen(dispatcher)
        self._dispatcher = dispatcher
        self._listener = conn
        dispatcher.start()
        self._task = asyncio.create_task(self._serve(dispatcher, conn, lost), name="hearth-bus-listen")
        log.info("bus.listening", backend="postgres", channel=self._channel)

    async def publish(self, event: BusEvent) -> None:
        await self._notify(_NOTIFY, encode_event(event))

    async def publish_many(self, events: Sequence[BusEvent]) -> None:
        """One NOTIFY statement for all of `events`, delivered in order (a batch of sends rings once)."""
        if len(events) == 1:
            await self.publish(events[0])
        elif events:
            await self._notify(_NOTIFY_MANY, [encode_event(event) for event in events])

    async def _notify(self, statement: str, payload: str | list[str]) -> None:
        pool = await self._publish_pool()
        for attempt in (1, 2):
            try:
                async with pool.acquire(timeout=self._publish_timeout) as conn:
                    await conn.fetchval(statement, self._channel, payload, timeout=self._publish_timeout)
                return
            except _BROKEN_CONNECTION as exc:
                if attempt == 2:
                    raise
                log.warning("bus.publish_retry", backend="postgres", error=type(exc).__name__)

    async def publish_in(self, connection: asyncpg.Connection, event: BusEvent) -> None:
        """`publish_in` on this bus's channel: NOTIFY inside the caller's transaction (delivered on commit)."""
        await publish_in(connection, event, channel=self._channel)

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
        conn, self._listener = self._listener, None
        if conn is not None:
            await _close(conn)
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            await dispatcher.stop()
        if self._owns_pool and self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _publish_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._publish_pool_size,
                    timeout=self._connect_timeout,
                    server_settings={"application_name": "hearth-bus-publish"},
                    # Its connections only ever run pg_notify: nothing to reset, so a release costs no round
                    # trip (asyncpg's default reset sends four statements after every publish).
                    reset=_keep_as_is,
                )
            return self._pool

    async def _listen(self, dispatcher: Dispatcher) -> tuple[asyncpg.Connection, asyncio.Event]:
        conn = await asyncpg.connect(
            self._dsn,
            timeout=self._connect_timeout,
            server_settings={"application_name": "hearth-bus-listen"},
        )
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())

            def on_notification(_conn: object, _pid: int, _channel: str, payload: str) -> None:
                dispatcher.push_payload(payload)

            await conn.add_listener(self._channel, on_notification)
        except BaseException:
            await _close(conn)
            raise
        return conn, lost

    async def _serve(self, dispatcher: Dispatcher, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        while True:
            reason = await self._watch(conn, lost)
            log.warning("bus.connection_lost", backend="postgres", reason=reason)
            await _close(conn, wait=min(2.0, self._connect_timeout))
            self._listener = None
            conn, lost = await self._reconnect(dispatcher)
            self._listener = conn
            log.info("bus.reconnected", backend="postgres", channel=self._channel)
            dispatcher.gap()

    async def _watch(self, conn: asyncpg.Connection, lost: asyncio.Event) -> str:
        """Return (with a reason) once the connection is lost or fails its health check."""
        while True:
            try:
                await asyncio.wait_for(lost.wait(), timeout=self._health_interval)
                return "terminated"
            except TimeoutError:
                pass
            try:
                await conn.fetchval("SELECT 1", timeout=self._connect_timeout)
            except Exception as exc:
                return f"health check failed: {type(exc).__name__}"

    async def _reconnect(self, dispatcher: Dispatcher) -> tuple[asyncpg.Connection, asyncio.Event]:
        self._backoff.reset()
        attempt = 0
        while True:
            await asyncio.sleep(self._backoff.next_delay())
            attempt += 1
            try:
                return await self._listen(dispatcher)
            except Exception as exc:
                # Only the error's type: its text could echo connection details.
                log.warning("bus.reconnect_failed", backend="postgres", attempt=attempt, error=type(exc).__name__)


async def _close(conn: asyncpg.Connection, wait: float = 2.0) -> None:
    if conn.is_closed():
        return
    try:
        await conn.close(timeout=wait)
    except Exception:
        conn.terminate()
