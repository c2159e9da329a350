"""Enqueue jobs on the unit of work's own connection, inside its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.shared.jobs import JobRequest
from infra.db import fast
from infra.jobs.queue import JobQueue


class TransactionalJobs:
    def __init__(self, queue: JobQueue, session: AsyncSession) -> None:
        self._queue = queue
        self._session = session

    async def enqueue(self, name: str, payload: dict[str, str], execute_after: datetime | None = None) -> int:
        return await self._queue.enqueue(name, payload, execute_after, connection=await fast.driver(self._session))

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[int]:
        return await self._queue.enqueue_many(
            [(job.name, job.payload, job.execute_after) for job in jobs], connection=await fast.driver(self._session)
        )
