"""The frozen job-queue schema: installable and removable through Alembic ops, exactly what pgqueuer expects,
and invisible to Alembic's autogenerate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from infra.db.engine import sqlalchemy_url
from infra.db.tables import metadata
from infra.jobs.queue import asyncpg_dsn
from infra.jobs.schema import (
    JOBS_SCHEMA,
    install,
    install_statements,
    make_queries,
    split_sql,
    uninstall_statements,
)
from tests.support.databases import create_database, drop_database, unique_name, with_database


@pytest.fixture
async def empty_database(pg_admin_url: str) -> AsyncIterator[str]:
    name = unique_name("hearth_jobs")
    await create_database(pg_admin_url, name)
    yield with_database(pg_admin_url, name)
    await drop_database(pg_admin_url, name)


async def run_as_migration(url: str, statements: list[str]) -> None:
    """What the migration will do: one `op.execute` per statement, in Alembic's transaction."""

    def migrate(sync: Connection) -> None:
        op = Operations(MigrationContext.configure(sync))
        for statement in statements:
            op.execute(statement)

    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate)
    finally:
        await engine.dispose()


async def jobs_objects(conn: asyncpg.Connection) -> list[str]:
    return [
        r["name"]
        for r in await conn.fetch(
            "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 UNION ALL "
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = $1 AND t.typtype = 'e' UNION ALL "
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1",
            JOBS_SCHEMA,
        )
    ]


async def test_migration_installs_what_pgqueuer_expects_and_removes_it_all(empty_database: str):
    await run_as_migration(empty_database, install_statements())
    conn = await asyncpg.connect(asyncpg_dsn(empty_database))
    try:
        assert {"pgqueuer", "pgqueuer_log", "pgqueuer_statistics", "pgqueuer_schedules"} <= set(
            await jobs_objects(conn)
        )
        plan = await make_queries(AsyncpgDriver(conn)).plan_upgrade()
        # Fails when a pgqueuer upgrade changes its schema: add a migration with these statements.
        assert plan.statements == (), plan.statements

        await run_as_migration(empty_database, uninstall_statements())
        assert await jobs_objects(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = $1", JOBS_SCHEMA) == 0

        await run_as_migration(empty_database, install_statements())  # up again (stairway)
        assert "pgqueuer" in await jobs_objects(conn)
    finally:
        await conn.close()


async def test_install_is_idempotent(empty_database: str):
    conn = await asyncpg.connect(asyncpg_dsn(empty_database))
    try:
        assert await install(conn) is True
        assert await install(conn) is False
    finally:
        await conn.close()


async def test_autogenerate_does_not_see_the_job_tables(database_url: str):
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await install(conn)
    finally:
        await conn.close()
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.connect() as sa_conn:
            diff = await sa_conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diff if "pgqueuer" in repr(d) or JOBS_SCHEMA + "." in repr(d)] == []


def test_split_sql_keeps_function_bodies_whole():
    script = """-- comment
CREATE TABLE a (x int);

CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
    PERFORM 1;

    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TABLE b;
"""
    assert split_sql(script) == [
        "CREATE TABLE a (x int)",
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n    PERFORM 1;\n\n    RETURN NEW;\nEND;\n"
        "$$ LANGUAGE plpgsql",
        "DROP TABLE b",
    ]
    with pytest.raises(ValueError, match="unterminated"):
        split_sql("CREATE TABLE a (x int)")
