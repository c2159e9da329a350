"""The audit trail is append-only in the database and its hash chain exposes tampering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import asyncpg
import pytest

from api.bootstrap import verify_audit_chain
from domain.audit.events import AuditEvent, Outcome
from infra.db.repositories.audit import append_args
from tests.support.users import login, register, signed_up


async def _rows(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch("SELECT * FROM audit_events ORDER BY seq")
    finally:
        await conn.close()


async def test_identity_events_are_audited_and_the_chain_verifies(api, database_url):
    user = await signed_up(api)
    await login(api, user.email, "wrong passphrase entirely")
    await api.post("/api/v1/auth/logout", headers=user.headers)
    rows = await _rows(database_url)
    actions = [(r["action"], r["outcome"]) for r in rows]
    assert actions == [
        ("user.register", "success"),
        ("auth.login", "success"),
        ("auth.login", "failure"),
        ("auth.logout", "success"),
    ]
    assert all(r["request_id"] for r in rows)
    report = await verify_audit_chain(database_url)
    assert report.ok and report.checked == 4


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'user.nothing' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events",
    ],
)
async def test_the_database_refuses_changes(api, database_url, statement):
    await register(api)
    conn = await asyncpg.connect(database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(statement)
    finally:
        await conn.close()
    assert len(await _rows(database_url)) == 1


async def _tamper(database_url: str, sql: str) -> None:
    """What an attacker with superuser rights could do: bypass the trigger."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(sql)
    finally:
        await conn.close()


async def test_verify_finds_an_edited_event(api, database_url):
    for _ in range(3):
        await register(api)
    await _tamper(database_url, "UPDATE audit_events SET actor_role = 'practice_admin' WHERE seq = 2")
    report = await verify_audit_chain(database_url)
    assert not report.ok and report.first_broken_seq == 2 and report.checked == 1


async def test_verify_finds_a_deleted_event(api, database_url):
    for _ in range(3):
        await register(api)
    await _tamper(database_url, "DELETE FROM audit_events WHERE seq = 2")
    report = await verify_audit_chain(database_url)
    assert report.first_broken_seq == 2 and "missing" in report.reason


async def test_concurrent_writers_keep_one_unbroken_chain(api, database_url):
    await asyncio.gather(*[register(api) for _ in range(12)])
    rows = await _rows(database_url)
    assert [r["seq"] for r in rows] == list(range(1, 13))
    assert (await verify_audit_chain(database_url)).ok


def _append_args(action: str) -> list:
    event = AuditEvent(action, "test", None, None, None, None, Outcome.SUCCESS, datetime.now(UTC))
    return list(append_args([event]))


_APPEND = "SELECT hearth_audit_append($1, $2)"


async def test_an_append_that_waited_for_the_lock_links_to_the_event_committed_meanwhile(api, database_url):
    """hearth_audit_append takes the chain lock and then reads the chain's end: a writer that waited for the lock
    must link to the event its predecessor committed meanwhile (a read with a snapshot from before the lock would
    not), and the database's hashes must be the ones `chain_hash` checks."""
    await register(api)
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        holder = first.transaction()
        await holder.start()
        seq = await first.fetchval(_APPEND, *_append_args("test.first"))
        waiter = second.transaction()
        await waiter.start()
        append = asyncio.create_task(second.fetchval(_APPEND, *_append_args("test.second")))
        await asyncio.sleep(0.3)
        assert not append.done(), "the second writer waits for the chain lock"
        await holder.commit()
        assert await asyncio.wait_for(append, 10) == seq + 1
        await waiter.commit()
    finally:
        await first.close()
        await second.close()
    rows = await _rows(database_url)
    assert [r["action"] for r in rows[-2:]] == ["test.first", "test.second"]
    assert rows[-1]["prev_hash"] == rows[-2]["hash"]
    assert (await verify_audit_chain(database_url)).ok


async def test_cli_reports_the_first_broken_link(api, database_url):
    await register(api)
    await register(api)
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", "HEARTH_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "api.cli", "audit", "verify"]
    ok = await asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "2 events verified" in ok.stdout, ok.stderr
    await _tamper(database_url, "UPDATE audit_events SET outcome = 'failure' WHERE seq = 2")
    broken = await asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
    assert broken.returncode == 1 and "BROKEN at event 2" in broken.stderr
