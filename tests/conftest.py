"""Shared fixtures: a migrated PostgreSQL database per test, settings, and the live app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import structlog

from api.bootstrap import Settings, load_settings
from api.main import create_app
from tests.support.clock import FakeClock
from tests.support.databases import (
    DatabasePool,
    create_database,
    drop_database,
    server_admin_url,
    unique_name,
    with_database,
)
from tests.support.server import serve


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url, server = server_admin_url()
    # Keep the embedded server's handle alive for the whole session.
    pg_admin_url.server = server  # type: ignore[attr-defined]
    return url


@pytest.fixture(scope="session")
async def template_database(pg_admin_url: str) -> AsyncIterator[str]:
    import asyncio

    from api.bootstrap import run_migrations

    name = unique_name("hearth_tpl")
    await create_database(pg_admin_url, name)
    await asyncio.to_thread(run_migrations, with_database(pg_admin_url, name))
    yield name
    await drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def database_pool(pg_admin_url: str, template_database: str) -> Iterator[DatabasePool]:
    pool = DatabasePool(pg_admin_url, template_database)
    yield pool
    pool.close()


@pytest.fixture
async def database_url(pg_admin_url: str, database_pool: DatabasePool) -> AsyncIterator[str]:
    """A fresh copy of the migrated template, this test's alone."""
    name = await database_pool.take()
    yield with_database(pg_admin_url, name)
    database_pool.give_back(name)


@pytest.fixture(autouse=True)
def _fresh_logging():
    # Each app configures structlog (level, renderer) at startup; tests must not inherit another test's setup.
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        env="test",
        database_url=database_url,
        data_dir=tmp_path / "data",
        spa_dir=tmp_path / "no-spa",
        # Cheap hashing keeps the suite fast; production defaults are tested in unit tests.
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        log_json=True,
        log_level="WARNING",
        # Tests drive background jobs explicitly with `container.worker.drain(until=clock.now())`.
        jobs_in_process=False,
    )


@pytest.fixture
async def live_url(settings: Settings) -> AsyncIterator[str]:
    async with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
async def api(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        yield client
