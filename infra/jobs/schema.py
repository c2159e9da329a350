"""The job queue's tables: pgqueuer's schema, installed by an Alembic migration into its own PostgreSQL schema.

The objects live in the `jobs` schema, so Alembic's autogenerate (which compares only the default schema) never
sees them, and the SQL is a frozen copy of what pgqueuer 1.6.0 renders (`schema_v1_install.sql`), so a migration
keeps doing the same thing after a library upgrade. `tests/integration/jobs/test_schema.py` checks that the
installed pgqueuer still expects exactly this schema; when it does not, add a migration with what
`pgqueuer_db_settings()` + `Queries.plan_upgrade()` reports.

In a migration (one statement per `op.execute`: asyncpg cannot run several in one prepared statement)::

    from infra.jobs.schema import install_statements, uninstall_statements

    def upgrade() -> None:
        for statement in install_statements():
            op.execute(statement)

    def downgrade() -> None:
        for statement in uninstall_statements():
            op.execute(statement)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import asyncpg
from pgqueuer import Queries
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment, QueryQueueBuilder, QuerySchedulerBuilder
from pgqueuer.domain.settings import DBSettings, Durability
from pgqueuer.domain.types import Channel
from pgqueuer.ports.driver import Driver

__all__ = [
    "JOBS_CHANNEL",
    "JOBS_SCHEMA",
    "install",
    "install_statements",
    "is_installed",
    "make_queries",
    "pgqueuer_db_settings",
    "render_install_statements",
    "split_sql",
    "uninstall_statements",
]

JOBS_SCHEMA = "jobs"
JOBS_CHANNEL = "hearth_jobs"  # LISTEN/NOTIFY channel (channels are per database)
_HERE = Path(__file__).resolve().parent


@cache
def pgqueuer_db_settings() -> DBSettings:
    """Every object name pinned here, so PGQUEUER_* environment variables cannot move the queue elsewhere."""
    return DBSettings(
        prefix="",
        db_schema=JOBS_SCHEMA,
        channel=Channel(JOBS_CHANNEL),
        function="fn_pgqueuer_changed",
        statistics_table="pgqueuer_statistics",
        queue_status_type="pgqueuer_status",
        queue_table="pgqueuer",
        queue_table_log="pgqueuer_log",
        trigger="tg_pgqueuer_changed",
        schedules_table="pgqueuer_schedules",
        durability=Durability.durable,
        widen_id=False,
    )


def make_queries(driver: Driver) -> Queries:
    """pgqueuer's `Queries` over `driver`, bound to Hearth's pinned object names."""
    settings = pgqueuer_db_settings()
    return Queries(
        driver,
        qbe=QueryBuilderEnvironment(settings=settings),
        qbq=QueryQueueBuilder(settings=settings),
        qbs=QuerySchedulerBuilder(settings=settings),
    )


def split_sql(script: str) -> list[str]:
    """Statements of a DDL script: split at a `;` ending a line, outside `$$` bodies; `--` lines dropped."""
    statements: list[str] = []
    current: list[str] = []
    in_body = False
    for line in script.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        if line.count("$$") % 2:
            in_body = not in_body
        if not in_body and line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().removesuffix(";"))
            current = []
    if in_body or any(part.strip() for part in current):
        raise ValueError("unterminated statement at the end of the script")
    return statements


def install_statements() -> list[str]:
    """The frozen install script (pgqueuer 1.6.0, schema `jobs`), one statement per item."""
    return split_sql((_HERE / "schema_v1_install.sql").read_text())


def uninstall_statements() -> list[str]:
    """Drops every object `install_statements()` created, then the schema itself."""
    return split_sql((_HERE / "schema_v1_uninstall.sql").read_text())


def render_install_statements() -> list[str]:
    """What the installed pgqueuer would create today (to compare with the frozen copy)."""
    return split_sql(QueryBuilderEnvironment(settings=pgqueuer_db_settings()).build_install_query(create_schema=True))


async def is_installed(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{JOBS_SCHEMA}.pgqueuer"))


async def install(conn: asyncpg.Connection) -> bool:
    """Install the schema unless it is there (tests and tools; production installs it by migration).
    True when it installed it."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('hearth.jobs.install'))")
        if await is_installed(conn):
            return False
        for statement in install_statements():
            await conn.execute(statement)
    return True
