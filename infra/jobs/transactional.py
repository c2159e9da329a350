"""Enqueue jobs on the unit of work's own connection, inside its transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from infra.jobs.queue import JobQueue, driver_connection


class TransactionalJobs:
    def __init__(self, queue: JobQueue, session: AsyncSession) -> None:
        self._queue = queue
        self._session = session

    async def enqueue(self, name: str, payload: dict[str, str], execute_after: datetime | None = None) -> int:
        connection = await driver_connection(await self._session.connection())
        return await self._queue.enqueue(name, payload, execute_after, connection=connection)
