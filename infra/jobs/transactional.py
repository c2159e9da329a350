"""Enqueue jobs on the unit of work's own connection, inside its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.shared.jobs import JobRequest
from infra.jobs.queue import JobQueue, driver_connection


class TransactionalJobs:
    def __init__(self, queue: JobQueue, session: AsyncSession) -> None:
        self._queue = queue
        self._session = session
        # The driver connection is looked up (with a round trip that begins the transaction) once per
        # SQLAlchemy connection, not once per job.
        self._driver: tuple[AsyncConnection, asyncpg.Connection] | None = None

    async def _connection(self) -> asyncpg.Connection:
        connection = await self._session.connection()
        if self._driver is None or self._driver[0] is not connection:
            self._driver = (connection, await driver_connection(connection))
        return self._driver[1]

    async def enqueue(self, name: str, payload: dict[str, str], execute_after: datetime | None = None) -> int:
        return await self._queue.enqueue(name, payload, execute_after, connection=await self._connection())

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[int]:
        return await self._queue.enqueue_many(
            [(job.name, job.payload, job.execute_after) for job in jobs], connection=await self._connection()
        )
