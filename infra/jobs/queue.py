"""Enqueue and cancel background jobs (pgqueuer's tables in the `jobs` schema, through asyncpg).

A job is a handler name and a JSON payload (ids, never clinical content: payloads stay in the database after the
job ran). `execute_after` is an absolute time read on the application's clock: the queue stores the delay from
`clock.now()` (PostgreSQL's `now()` decides when it is due) and keeps the intended time in the job's headers, so a
test that moves a fake clock can make jobs due with `release_due(until)` (or `JobWorker.drain(until=...)`).

Pass `connection=` (an asyncpg connection inside a transaction, see `driver_connection`) to enqueue or cancel in
the caller's transaction: the job then exists only if that transaction commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import asyncpg
from pgqueuer import Queries
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver, AsyncpgPoolDriver
from pgqueuer.domain import types as pgq_types
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.shared.ports import Clock
from infra.jobs.schema import JOBS_CHANNEL, JOBS_SCHEMA, make_queries

__all__ = [
    "DUE_AT_HEADER",
    "JobQueue",
    "JobState",
    "asyncpg_dsn",
    "create_pool",
    "decode_payload",
    "driver_connection",
    "encode_payload",
    "release_due",
    "requeue_interrupted",
    "wake_workers",
]

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
DUE_AT_HEADER = "hearth_due_at"

_QUEUE = f"{JOBS_SCHEMA}.pgqueuer"
_LOG = f"{JOBS_SCHEMA}.pgqueuer_log"
_STATUS_FOR_UPDATE = f"SELECT status::text FROM {_QUEUE} WHERE id = $1 FOR UPDATE"  # noqa: S608
_STATUS = f"SELECT status::text FROM {_QUEUE} WHERE id = $1"  # noqa: S608
_LAST_LOGGED_STATUS = f"SELECT status::text FROM {_LOG} WHERE job_id = $1 ORDER BY created DESC, id DESC LIMIT 1"  # noqa: S608
_ATTEMPTS = f"SELECT attempts FROM {_QUEUE} WHERE id = $1"  # noqa: S608
# Back to the queue as it was (attempts unchanged), only while this manager still holds it: once its heartbeat is
# stale another worker may have picked it again. Logged like a retry, without a traceback.
_REQUEUE_INTERRUPTED = f"""
WITH requeued AS (
    UPDATE {_QUEUE} SET status = 'queued', execute_after = now(), updated = now(), queue_manager_id = NULL
    WHERE id = $1 AND status = 'picked' AND queue_manager_id = $2
    RETURNING id, entrypoint, priority
)
INSERT INTO {_LOG} (job_id, status, entrypoint, priority) SELECT id, 'queued', entrypoint, priority FROM requeued
"""  # noqa: S608
_RELEASE_DUE = (
    f"UPDATE {_QUEUE} SET execute_after = now() "  # noqa: S608
    "WHERE status = 'queued' AND attempts = 0 AND execute_after > now() "
    f"AND (headers ->> '{DUE_AT_HEADER}')::timestamptz <= $1"
)

_STATES: dict[str, JobState] = {
    "queued": "queued",
    "picked": "running",
    "successful": "succeeded",
    "exception": "failed",
    "failed": "failed",
    "canceled": "cancelled",
    "deleted": "cancelled",
}


def asyncpg_dsn(database_url: str) -> str:
    """The operator's libpq URL (or a SQLAlchemy `postgresql+asyncpg://` one) as asyncpg expects it."""
    url = make_url(database_url)
    if url.drivername not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pool(database_url: str, *, max_size: int = 4) -> asyncpg.Pool:
    """A small asyncpg pool for the queue (a worker keeps one connection for LISTEN)."""
    if max_size < 2:
        raise ValueError("the job pool needs at least 2 connections")
    return await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=1, max_size=max_size)


async def driver_connection(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a SQLAlchemy `AsyncConnection` (e.g. `await session.connection()`), with the
    SQLAlchemy transaction really begun on it, so queue statements join that transaction."""
    raw = await conn.get_raw_connection()
    await _begin(conn, raw.dbapi_connection)
    driver = raw.driver_connection
    if not isinstance(driver, asyncpg.Connection):
        raise TypeError("the job queue needs an asyncpg connection")
    return driver


async def _begin(conn: AsyncConnection, adapter: Any) -> None:
    """SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement. Begin it the way that
    statement would (the adapter's own method, under its lock) instead of spending a round trip on `SELECT 1`;
    fall back to the statement if a SQLAlchemy release renames the internals (a test pins them)."""
    start = getattr(adapter, "_start_transaction", None)
    mutex = getattr(adapter, "_execute_mutex", None)
    if start is None or mutex is None or not hasattr(adapter, "_transaction"):
        await conn.exec_driver_sql("SELECT 1")
        return
    async with mutex:
        if adapter._transaction is None:
            await start()


def _json_default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"job payloads hold JSON values, UUIDs and datetimes, not {type(value).__name__}")


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(payload), default=_json_default, separators=(",", ":"), sort_keys=True).encode()


def decode_payload(raw: bytes | None) -> dict[str, Any]:
    value = json.loads(raw) if raw else {}
    if not isinstance(value, dict):
        raise ValueError("job payload is not a JSON object")
    return value


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("execute_after must be timezone-aware")
    return moment


class JobQueue:
    """The producer side: enqueue, cancel and inspect jobs."""

    def __init__(self, pool: asyncpg.Pool, *, clock: Clock) -> None:
        self._pool = pool
        self._clock = clock
        self._queries = make_queries(AsyncpgPoolDriver(pool))

    def _queries_on(self, connection: asyncpg.Connection | None) -> Queries:
        if connection is None:
            return self._queries
        return make_queries(AsyncpgDriver(connection))

    async def enqueue(
        self,
        name: str,
        payload: Mapping[str, Any],
        execute_after: datetime | None = None,
        *,
        priority: int = 0,
        connection: asyncpg.Connection | None = None,
    ) -> int:
        """Add a job for the handler registered as `name`; it runs once `execute_after` (default: now) has
        passed. Returns the job id (keep it to cancel the job)."""
        if not name:
            raise ValueError("a job needs a handler name")
        now = self._clock.now()
        due = _utc(execute_after) if execute_after is not None else now
        delay = max(due - now, timedelta(0))
        ids = await self._queries_on(connection).enqueue(
            name,
            encode_payload(payload),
            priority=priority,
            execute_after=delay,
            headers={DUE_AT_HEADER: due.isoformat()},
        )
        return int(ids[0])

    async def enqueue_once(
        self, name: str, payload: Mapping[str, Any], execute_after: datetime, *, dedupe_key: str
    ) -> int | None:
        """`enqueue`, unless a job with `dedupe_key` is waiting or running: then nothing, and None."""
        if not name or not dedupe_key:
            raise ValueError("a job needs a handler name and a dedupe key")
        now = self._clock.now()
        due = _utc(execute_after)
        [job_id] = await self._queries.enqueue(
            name,
            encode_payload(payload),
            execute_after=max(due - now, timedelta(0)),
            dedupe_key=dedupe_key,
            headers={DUE_AT_HEADER: due.isoformat()},
            on_conflict="skip",
        )
        return None if job_id is None else int(job_id)

    async def enqueue_many(
        self,
        jobs: Sequence[tuple[str, Mapping[str, Any], datetime | None]],
        *,
        connection: asyncpg.Connection | None = None,
    ) -> list[int]:
        """`enqueue` for several `(name, payload, execute_after)` jobs in one statement (one round trip)."""
        if not jobs:
            return []
        if not all(name for name, _, _ in jobs):
            raise ValueError("a job needs a handler name")
        now = self._clock.now()
        dues = [_utc(after) if after is not None else now for _, _, after in jobs]
        ids = await self._queries_on(connection).enqueue(
            [name for name, _, _ in jobs],
            [encode_payload(payload) for _, payload, _ in jobs],
            priority=[0] * len(jobs),
            execute_after=[max(due - now, timedelta(0)) for due in dues],
            headers=[{DUE_AT_HEADER: due.isoformat()} for due in dues],
        )
        return [int(job_id) for job_id in ids]

    async def cancel(self, job_id: int, *, connection: asyncpg.Connection | None = None) -> bool:
        """Remove a job from the queue. True when it was still waiting, so it will never run; False when it is
        unknown, already finished, or running right now (a running handler is not interrupted)."""
        if connection is not None:
            return await self._cancel(connection, job_id)
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._cancel(conn, job_id)

    async def _cancel(self, conn: asyncpg.Connection, job_id: int) -> bool:
        status = await conn.fetchval(_STATUS_FOR_UPDATE, job_id)
        if status is None:
            return False
        await self._queries_on(conn).mark_job_as_cancelled([pgq_types.JobId(job_id)])
        return bool(status == "queued")

    async def state(self, job_id: int) -> JobState | None:
        """Where a job stands; None for an unknown id."""
        async with self._pool.acquire() as conn:
            status = await conn.fetchval(_STATUS, job_id)
            if status is None:
                status = await conn.fetchval(_LAST_LOGGED_STATUS, job_id)
        return None if status is None else _STATES[status]

    async def attempts(self, job_id: int) -> int | None:
        """How many times a queued, running or failed job has been retried so far."""
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(_ATTEMPTS, job_id)
        return None if value is None else int(value)

    async def release_due(self, until: datetime) -> int:
        return await release_due(self._pool, until)


async def release_due(pool: asyncpg.Pool, until: datetime) -> int:
    """Make due now every waiting job whose intended time (on the application's clock) is at or before `until`;
    for tests with a fake clock and for operators. Retries keep their backoff. Returns how many it released."""
    async with pool.acquire() as conn, conn.transaction():
        result = await conn.execute(_RELEASE_DUE, _utc(until))
        released = int(result.rsplit(" ", 1)[-1])
        if released:
            await wake_workers(conn)
    return released


async def requeue_interrupted(pool: asyncpg.Pool, job_id: int, queue_manager_id: uuid.UUID) -> bool:
    """Put back a job whose run was cancelled when its worker stopped, to run again as soon as a worker serves; the
    interrupted run is not counted as an attempt. False when the job was no longer this manager's."""
    async with pool.acquire() as conn, conn.transaction():
        result: str = await conn.execute(_REQUEUE_INTERRUPTED, job_id, queue_manager_id)
        requeued = result.rsplit(" ", 1)[-1] != "0"
        if requeued:
            await wake_workers(conn)
    return requeued


async def wake_workers(conn: asyncpg.Connection) -> None:
    """Tell idle workers to look at the queue now (pgqueuer's trigger does not notify UPDATEs)."""
    event = {
        "channel": JOBS_CHANNEL,
        "operation": "update",
        "sent_at": datetime.now(UTC).isoformat(),
        "table": "pgqueuer",
        "type": "table_changed_event",
    }
    await conn.execute("SELECT pg_notify($1, $2)", JOBS_CHANNEL, json.dumps(event))
