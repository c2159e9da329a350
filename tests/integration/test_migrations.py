"""Every revision upgrades, downgrades and upgrades again; the models match the migrations."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from infra.db import migrate
from infra.db.engine import sqlalchemy_url
from infra.db.tables import metadata
from tests.support.databases import create_database, drop_database, unique_name, with_database


@pytest.fixture
async def empty_database(pg_admin_url):
    name = unique_name("hearth_mig")
    await create_database(pg_admin_url, name)
    yield with_database(pg_admin_url, name)
    await drop_database(pg_admin_url, name)


def _revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def test_stairway_up_down_up(empty_database):
    url = empty_database
    revisions = _revisions(url)
    assert revisions, "no migrations found"
    for index, revision in enumerate(revisions):
        previous = revisions[index - 1] if index else "base"
        await asyncio.to_thread(migrate.upgrade, url, revision)
        await asyncio.to_thread(migrate.downgrade, url, previous)
        await asyncio.to_thread(migrate.upgrade, url, revision)


async def test_models_and_migrations_agree(empty_database):
    await asyncio.to_thread(migrate.upgrade, empty_database)
    engine = create_async_engine(sqlalchemy_url(empty_database))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert diff == [], f"autogenerate would emit: {diff}"


async def _migrate_in_a_process(database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "HEARTH_DATA_DIR": str(data_dir)}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "api.cli", "migrate"], env=env, capture_output=True, text=True
    )


async def test_concurrent_upgrades_of_a_fresh_database_all_succeed(empty_database, tmp_path):
    # `hearth serve` and `hearth worker` migrate at start, so processes started together upgrade one fresh database
    # at once; without a lock the later ones' CREATE TYPE collided with the first's (pg_type_typname_nsp_index).
    # Processes, not threads: Alembic's `context` is process-global.
    results = await asyncio.gather(*(_migrate_in_a_process(empty_database, tmp_path) for _ in range(3)))

    assert [r.returncode for r in results] == [0, 0, 0], "\n".join(r.stderr[-2000:] for r in results)
    engine = create_async_engine(sqlalchemy_url(empty_database))
    try:
        assert await migrate.at_head(engine, migrate.head_revisions(empty_database))
    finally:
        await engine.dispose()
