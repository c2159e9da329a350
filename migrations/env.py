"""Alembic environment: async engine, metadata from infra.db.tables."""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from infra.db.engine import sqlalchemy_url
from infra.db.tables import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    return sqlalchemy_url(url)


# `hearth serve`, `hearth worker` and `hearth migrate` all migrate at start, so processes started together (compose,
# several API processes) upgrade one database at once. Without a lock the later ones, reading the same old revision,
# replay the first's DDL and fail on its types and tables; with it they wait, then find the schema at head.
MIGRATION_LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended("hearth.migrations", 0)))


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        # Transaction-scoped: released by the commit that makes the new revision visible, or by a rollback.
        connection.execute(MIGRATION_LOCK)
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
