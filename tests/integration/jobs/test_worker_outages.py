"""The worker against a database that goes away: it keeps serving once PostgreSQL is back (restart, failover, a
killed connection), and says when it is not serving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from api.bootstrap import Settings
from api.main import create_app
from infra.jobs.queue import JobQueue, create_pool
from infra.jobs.worker import JobWorker
from tests.integration.jobs.outage import OutageProxy
from tests.integration.jobs.test_queue_and_worker import Recorder
from tests.support.databases import create_database, drop_database, unique_name, with_database
from tests.support.server import serve

# Quick polls and restarts keep the tests short; healthy() then turns False after 2 x 0.3 + 0.4 s without a poll.
QUICK = {
    "poll_interval": timedelta(seconds=0.3),
    "restart_delay": timedelta(seconds=0.1),
    "restart_max_delay": timedelta(seconds=0.4),
    "listener_check": timedelta(seconds=0.3),
}


async def eventually(condition, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[OutageProxy]:
    outage = OutageProxy(database_url)
    await outage.up()
    yield outage
    await outage.down()


async def test_the_worker_serves_again_after_the_database_was_down(proxy: OutageProxy, queue: JobQueue):
    pool = await create_pool(proxy.url, max_size=4)  # the worker reaches PostgreSQL through the proxy only
    handler = Recorder()
    worker = JobWorker(pool, {"ping": handler}, **QUICK)
    try:
        with capture_logs() as logs:
            worker.start()
            await queue.enqueue("ping", {"n": 1})
            await handler.wait_for(1)
            assert worker.healthy()

            await proxy.down()  # connections cut, new ones refused, as while PostgreSQL restarts
            await eventually(lambda: not worker.healthy())
            assert any(entry["event"] == "jobs.worker_crashed" for entry in logs)
            await queue.enqueue("ping", {"n": 2})  # the API, on its own connections, still takes work
            await asyncio.sleep(0.5)

            await proxy.up()
            await handler.wait_for(2, within=15)
            await eventually(worker.healthy)
            await queue.enqueue("ping", {"n": 3})
            await handler.wait_for(3, within=10)
    finally:
        await worker.stop(grace_seconds=5)
        await pool.close()
    assert [payload for payload, _ in handler.runs] == [{"n": 1}, {"n": 2}, {"n": 3}]
    failures = [entry for entry in logs if entry["event"] == "jobs.worker_crashed"]
    delays = [entry["restart_in_seconds"] for entry in failures]
    assert all(0 < delay <= 0.4 for delay in delays)  # bounded backoff


async def test_a_killed_listen_connection_is_replaced(database_url: str, queue: JobQueue):
    # Only the worker's connections carry this name, so the test can kill them all, LISTEN included.
    named = make_url(database_url).update_query_dict({"application_name": "hearth_worker_under_test"})
    pool = await create_pool(named.render_as_string(hide_password=False), max_size=4)
    handler = Recorder()
    worker = JobWorker(pool, {"ping": handler}, **{**QUICK, "poll_interval": timedelta(seconds=60)})
    admin = await asyncpg.connect(database_url)
    try:
        with capture_logs() as logs:
            worker.start()
            await queue.enqueue("ping", {"n": 1})
            await handler.wait_for(1)
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'hearth_worker_under_test' AND datname = current_database()"
            )
            assert killed >= 1
            await eventually(lambda: any(entry["event"] == "jobs.worker_crashed" for entry in logs))
            await eventually(lambda: sum(entry["event"] == "jobs.worker_started" for entry in logs) >= 2)
            await asyncio.sleep(0.5)  # room for the new LISTEN
            await queue.enqueue("ping", {"n": 2})
            # Woken by NOTIFY on the new LISTEN connection, not by the 60 s poll.
            await handler.wait_for(2, within=8)
    finally:
        await admin.close()
        await worker.stop(grace_seconds=5)
        # Bounded: a connection the worker never handed back (its LISTEN one, lost mid-run) made this wait forever.
        await asyncio.wait_for(pool.close(), 10)


async def test_a_worker_that_cannot_start_keeps_trying_reports_it_and_still_stops(pg_admin_url: str):
    name = unique_name("hearth_nojobs")
    await create_database(pg_admin_url, name)  # no job schema here
    pool = await create_pool(with_database(pg_admin_url, name))
    try:
        worker = JobWorker(pool, {"x": Recorder()}, **QUICK)
        with capture_logs() as logs:
            task = worker.start()
            await eventually(lambda: sum(entry["event"] == "jobs.worker_crashed" for entry in logs) >= 3)
            assert not task.done()
            await eventually(lambda: not worker.healthy())
            await worker.stop(grace_seconds=5)
        assert task.done() and not worker.healthy()
    finally:
        await pool.close()
        await drop_database(pg_admin_url, name)


@pytest.fixture
async def in_process_app(settings: Settings) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    application = create_app(settings.model_copy(update={"jobs_in_process": True}))
    async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        yield application, api


async def test_readiness_reports_a_dead_in_process_worker(in_process_app):
    application, api = in_process_app
    assert (await api.get("/readyz")).status_code == 200
    await application.state.container.worker.stop(grace_seconds=5)  # as if its task had died
    response = await api.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


async def test_readiness_ignores_the_worker_when_jobs_run_elsewhere(settings: Settings):
    application = create_app(settings)  # jobs_in_process=False: a `hearth worker` process serves the queue
    async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        assert not application.state.container.worker.healthy()
        assert (await api.get("/readyz")).status_code == 200
