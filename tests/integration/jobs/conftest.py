"""A fresh migrated database per test (the shared `database_url` fixture) with the job schema installed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from infra.jobs.queue import JobQueue, asyncpg_dsn, create_pool
from infra.jobs.schema import install
from tests.support.clock import FakeClock


@pytest.fixture
async def job_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await install(conn)  # no-op once a migration installs it
    finally:
        await conn.close()
    pool = await create_pool(database_url, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture
def queue(job_pool: asyncpg.Pool, clock: FakeClock) -> JobQueue:
    return JobQueue(job_pool, clock=clock)
