"""The job queue on real PostgreSQL: delivery, timing, cancellation, retries, exclusivity, transactions."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from structlog.testing import capture_logs

from domain.shared.notify import DeliveryFailed
from domain.shared.ports import SystemClock
from infra.db.engine import sqlalchemy_url
from infra.jobs.factory import job_worker_from_settings, retry_policy_from_settings
from infra.jobs.queue import JobQueue, create_pool, driver_connection, encode_payload
from infra.jobs.worker import JobWorker, PermanentJobError, RetryPolicy
from infra.settings import Settings
from tests.support.clock import FakeClock

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay=timedelta(0))


class Recorder:
    """A handler that records each run (payload, monotonic time) and can fail on demand."""

    def __init__(self, *, fail_times: int = 0, error: Exception | None = None, sleep: float = 0.0) -> None:
        self.runs: list[tuple[dict[str, Any], float]] = []
        self.fail_times = fail_times
        self.error = error or RuntimeError("provider unavailable")
        self.sleep = sleep
        self.changed = asyncio.Event()

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.runs.append((payload, time.monotonic()))
        self.changed.set()
        if self.sleep:
            await asyncio.sleep(self.sleep)
        if len(self.runs) <= self.fail_times:
            raise self.error

    async def wait_for(self, count: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while len(self.runs) < count:
                self.changed.clear()
                await self.changed.wait()


async def stop_soon(worker: JobWorker) -> None:
    await worker.stop(grace_seconds=10)


async def test_enqueued_job_is_delivered_with_its_payload(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder()
    appointment = uuid.uuid4()
    job_id = await queue.enqueue("reminders.send", {"appointment_id": appointment, "channel": "email"})
    assert await queue.state(job_id) == "queued"

    ran = await JobWorker(job_pool, {"reminders.send": handler}).drain()

    assert ran == 1
    assert [p for p, _ in handler.runs] == [{"appointment_id": str(appointment), "channel": "email"}]
    assert await queue.state(job_id) == "succeeded"
    assert await JobWorker(job_pool, {"reminders.send": handler}).drain() == 0  # never twice


async def test_a_worker_only_runs_the_jobs_it_has_handlers_for(job_pool: asyncpg.Pool, queue: JobQueue):
    mine, other = Recorder(), Recorder()
    await queue.enqueue("mine", {})
    other_id = await queue.enqueue("someone.else", {})
    assert await JobWorker(job_pool, {"mine": mine}).drain() == 1
    assert await queue.state(other_id) == "queued"
    assert await JobWorker(job_pool, {"someone.else": other}).drain() == 1


async def test_future_job_is_not_run_early_on_the_application_clock(
    job_pool: asyncpg.Pool, queue: JobQueue, clock: FakeClock
):
    handler = Recorder()
    worker = JobWorker(job_pool, {"remind": handler})
    job_id = await queue.enqueue("remind", {"n": 1}, execute_after=clock.now() + timedelta(hours=1))

    assert await worker.drain() == 0
    clock.advance(minutes=59, seconds=59)
    assert await worker.drain(until=clock.now()) == 0
    assert await queue.state(job_id) == "queued"

    clock.advance(seconds=1)
    assert await worker.drain(until=clock.now()) == 1
    assert await queue.state(job_id) == "succeeded"


async def test_future_job_waits_for_its_time_on_a_running_worker(job_pool: asyncpg.Pool):
    handler = Recorder()
    queue = JobQueue(job_pool, clock=SystemClock())
    worker = JobWorker(job_pool, {"remind": handler}, poll_interval=timedelta(seconds=30))
    worker.start()
    try:
        enqueued = time.monotonic()
        await queue.enqueue("remind", {}, execute_after=datetime.now(UTC) + timedelta(seconds=1.5))
        await asyncio.sleep(0.8)
        assert handler.runs == []
        await handler.wait_for(1, within=10)
    finally:
        await stop_soon(worker)
    assert handler.runs[0][1] - enqueued >= 1.4


async def test_an_idle_worker_is_woken_by_a_new_job(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder()
    worker = JobWorker(job_pool, {"ping": handler}, poll_interval=timedelta(seconds=60))
    worker.start()
    try:
        await asyncio.sleep(0.5)  # the worker is idle, waiting up to 60 s
        started = time.monotonic()
        await queue.enqueue("ping", {})
        await handler.wait_for(1, within=5)  # LISTEN/NOTIFY on the pinned channel, not the 60 s poll
    finally:
        await stop_soon(worker)
    assert handler.runs[0][1] - started < 5


async def test_jobs_enqueued_together_each_keep_their_own_name_payload_and_due_time(
    job_pool: asyncpg.Pool, queue: JobQueue, clock: FakeClock
):
    soon, later, other = Recorder(), Recorder(), Recorder()
    worker = JobWorker(job_pool, {"soon": soon, "later": later, "other": other})
    start = clock.now()
    ids = await queue.enqueue_many(
        [
            ("later", {"n": 2}, start + timedelta(hours=2)),
            ("soon", {"n": 1}, start + timedelta(hours=1)),
            ("other", {"n": 3}, None),
        ]
    )

    assert len(set(ids)) == 3
    assert [await queue.state(i) for i in ids] == ["queued"] * 3
    assert await worker.drain(until=clock.now()) == 1
    assert [p for p, _ in other.runs] == [{"n": 3}] and not soon.runs and not later.runs
    clock.advance(hours=1)
    assert await worker.drain(until=clock.now()) == 1
    assert [p for p, _ in soon.runs] == [{"n": 1}] and not later.runs
    clock.advance(hours=1)
    assert await worker.drain(until=clock.now()) == 1
    assert [p for p, _ in later.runs] == [{"n": 2}]
    assert await queue.enqueue_many([]) == []


async def test_releasing_due_jobs_wakes_a_running_worker(job_pool: asyncpg.Pool, queue: JobQueue, clock: FakeClock):
    handler = Recorder()
    worker = JobWorker(job_pool, {"remind": handler}, poll_interval=timedelta(seconds=60))
    await queue.enqueue("remind", {}, execute_after=clock.now() + timedelta(hours=1))
    worker.start()
    try:
        await asyncio.sleep(0.5)
        assert await queue.release_due(clock.now() + timedelta(minutes=59)) == 0
        assert await queue.release_due(clock.now() + timedelta(hours=1)) == 1
        await handler.wait_for(1, within=5)
    finally:
        await stop_soon(worker)


async def test_cancelled_job_never_runs(job_pool: asyncpg.Pool, queue: JobQueue, clock: FakeClock):
    handler = Recorder()
    worker = JobWorker(job_pool, {"remind": handler})
    keep = await queue.enqueue("remind", {"keep": True})
    drop_now = await queue.enqueue("remind", {"keep": False})
    drop_later = await queue.enqueue("remind", {"keep": False}, execute_after=clock.now() + timedelta(hours=24))

    assert await queue.cancel(drop_now) is True
    assert await queue.cancel(drop_later) is True
    assert await queue.cancel(drop_later) is False  # already gone
    assert await queue.cancel(987_654_321) is False  # unknown

    clock.advance(days=2)
    assert await worker.drain(until=clock.now()) == 1
    assert [p for p, _ in handler.runs] == [{"keep": True}]
    assert await queue.state(drop_now) == "cancelled"
    assert await queue.state(drop_later) == "cancelled"
    assert await queue.cancel(keep) is False  # finished jobs are not cancelled


async def test_failing_job_is_retried_then_marked_failed(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder(fail_times=99)
    job_id = await queue.enqueue("flaky", {})

    ran = await JobWorker(job_pool, {"flaky": handler}, retry=NO_WAIT).drain()

    assert ran == 3 == len(handler.runs)
    assert await queue.state(job_id) == "failed"
    assert await queue.attempts(job_id) == 2  # two retries after the first run
    assert await JobWorker(job_pool, {"flaky": handler}, retry=NO_WAIT).drain() == 0


async def test_a_job_that_fails_for_good_calls_its_give_up_hook_once(job_pool: asyncpg.Pool, queue: JobQueue):
    gave_up: list[tuple[dict[str, Any], str]] = []

    async def give_up(payload: dict[str, Any], reason: str) -> None:
        gave_up.append((payload, reason))

    handlers = {
        "flaky": Recorder(fail_times=99),
        "broken": Recorder(fail_times=99, error=PermanentJobError("bad payload")),
        "fine": Recorder(fail_times=1),
    }
    hooks = dict.fromkeys(handlers, give_up)
    for name in handlers:
        await queue.enqueue(name, {"job": name})
    assert await JobWorker(job_pool, handlers, retry=NO_WAIT, on_give_up=hooks).drain() == 3 + 1 + 2
    assert sorted(gave_up, key=str) == [
        ({"job": "broken"}, "PermanentJobError: bad payload"),
        ({"job": "flaky"}, "RuntimeError: provider unavailable"),
    ]


def test_default_retries_outlast_an_afternoon_outage(tmp_path: Path):
    policy = retry_policy_from_settings(Settings(env="test", data_dir=tmp_path))
    waits = [policy.delay_after(failures) for failures in range(1, policy.max_attempts)]
    assert policy.delay_after(policy.max_attempts) is None
    assert waits[0] == timedelta(seconds=30)
    assert waits[-1] == timedelta(hours=1)  # the cap is reached, not left theoretical
    assert sum(waits, timedelta()) >= timedelta(hours=4)


async def test_job_that_recovers_on_retry_succeeds(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder(fail_times=1)
    job_id = await queue.enqueue("flaky", {"x": 1})
    assert await JobWorker(job_pool, {"flaky": handler}, retry=NO_WAIT).drain() == 2
    assert await queue.state(job_id) == "succeeded"
    assert [p for p, _ in handler.runs] == [{"x": 1}, {"x": 1}]


async def test_retries_back_off_exponentially(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder(fail_times=2)
    policy = RetryPolicy(max_attempts=3, initial_delay=timedelta(seconds=0.4), multiplier=2)
    worker = JobWorker(job_pool, {"flaky": handler}, retry=policy, poll_interval=timedelta(seconds=30))
    job_id = await queue.enqueue("flaky", {})
    worker.start()
    try:
        await handler.wait_for(3, within=15)
    finally:
        await stop_soon(worker)
    times = [t for _, t in handler.runs]
    assert times[1] - times[0] >= 0.35
    assert times[2] - times[1] >= 0.75
    assert await queue.state(job_id) == "succeeded"


async def test_the_job_log_keeps_a_masked_message_and_no_chained_causes(
    job_pool: asyncpg.Pool, queue: JobQueue, caplog: pytest.LogCaptureFixture
):
    address, phone = "jane.doe@example.org", "+1 415 555 0123"  # not in the lines a traceback quotes

    async def lookup(payload: dict[str, Any]) -> None:
        try:
            raise LookupError(f"no mailbox for {address}, call {phone}")
        except LookupError as exc:
            raise RuntimeError(f"directory said no to {address}") from exc

    job_id = await queue.enqueue("lookup", {})
    with capture_logs() as logs:
        assert await JobWorker(job_pool, {"lookup": lookup}, retry=RetryPolicy(2, timedelta(0))).drain() == 2
    assert await queue.state(job_id) == "failed"

    rows = await job_pool.fetch("SELECT traceback::text FROM jobs.pgqueuer_log WHERE traceback IS NOT NULL")
    assert len(rows) == 2  # the retry, then the failure
    for row in rows:
        assert "RuntimeError: directory said no to <address>" in row["traceback"]
        assert "in lookup" in row["traceback"]  # the handler's frames stay, for debugging
    for text in ("\n".join(row["traceback"] for row in rows), repr(logs), caplog.text):
        assert "jane.doe" not in text and "555 0123" not in text and "LookupError" not in text


@pytest.mark.parametrize(
    "error", [DeliveryFailed("SMTP: 550 no such user", permanent=True), PermanentJobError("bad payload")]
)
async def test_permanent_errors_are_not_retried(job_pool: asyncpg.Pool, queue: JobQueue, error: Exception):
    handler = Recorder(fail_times=99, error=error)
    job_id = await queue.enqueue("send", {})
    assert await JobWorker(job_pool, {"send": handler}, retry=NO_WAIT).drain() == 1
    assert await queue.state(job_id) == "failed"


async def test_transient_delivery_failures_are_retried(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder(fail_times=1, error=DeliveryFailed("SMTP: 451 try later", permanent=False))
    job_id = await queue.enqueue("send", {})
    assert await JobWorker(job_pool, {"send": handler}, retry=NO_WAIT).drain() == 2
    assert await queue.state(job_id) == "succeeded"


async def test_two_workers_never_run_the_same_job(database_url: str, job_pool: asyncpg.Pool, queue: JobQueue):
    jobs = 60
    seen: list[tuple[str, int]] = []
    done = asyncio.Event()

    def handler_for(worker_name: str):
        async def handle(payload: dict[str, Any]) -> None:
            seen.append((worker_name, payload["n"]))
            await asyncio.sleep(0.01)
            if len(seen) >= jobs:
                done.set()

        return handle

    for n in range(jobs):
        await queue.enqueue("work", {"n": n})
    pools = [await create_pool(database_url, max_size=4) for _ in range(2)]
    workers = [JobWorker(pool, {"work": handler_for(f"w{i}")}, concurrency=2) for i, pool in enumerate(pools)]
    try:
        for worker in workers:
            worker.start()
        async with asyncio.timeout(30):
            await done.wait()
        await asyncio.sleep(0.5)  # room for a duplicate to show up
    finally:
        for worker in workers:
            await stop_soon(worker)
        for pool in pools:
            await pool.close()

    counts = Counter(n for _, n in seen)
    assert sorted(counts) == list(range(jobs))
    assert set(counts.values()) == {1}
    per_worker = Counter(name for name, _ in seen)
    assert per_worker["w0"] > 0 and per_worker["w1"] > 0  # both really competed


async def test_enqueue_inside_a_transaction_exists_only_if_it_commits(
    database_url: str, job_pool: asyncpg.Pool, queue: JobQueue
):
    handler = Recorder()
    engine = create_async_engine(sqlalchemy_url(database_url))
    try:
        async with engine.connect() as conn:
            tx = await conn.begin()
            rolled_back = await queue.enqueue("tx", {"v": "rolled back"}, connection=await driver_connection(conn))
            await tx.rollback()
        async with engine.connect() as conn:
            tx = await conn.begin()
            committed = await queue.enqueue("tx", {"v": "committed"}, connection=await driver_connection(conn))
            assert await queue.state(committed) is None  # invisible before commit
            await tx.commit()
        async with engine.connect() as conn:
            tx = await conn.begin()
            assert await queue.cancel(committed, connection=await driver_connection(conn)) is True
            await tx.rollback()  # the cancellation is undone with its transaction
    finally:
        await engine.dispose()

    assert await queue.state(rolled_back) is None
    assert await JobWorker(job_pool, {"tx": handler}).drain() == 1
    assert [p for p, _ in handler.runs] == [{"v": "committed"}]


async def test_stop_lets_the_running_job_finish(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder(sleep=0.5)
    worker = JobWorker(job_pool, {"slow": handler})
    job_id = await queue.enqueue("slow", {})
    worker.start()
    await handler.wait_for(1)
    await worker.stop(grace_seconds=10)
    assert await queue.state(job_id) == "succeeded"


async def test_a_job_cut_short_by_stop_runs_again_on_the_next_worker(job_pool: asyncpg.Pool, queue: JobQueue):
    started = asyncio.Event()

    async def slow_smtp(payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.sleep(60)

    worker = JobWorker(job_pool, {"send": slow_smtp})
    job_id = await queue.enqueue("send", {"reminder_id": "r1"})
    worker.start()
    async with asyncio.timeout(10):
        await started.wait()
    await worker.stop(grace_seconds=0.2)  # shutdown's grace runs out mid-send
    assert await queue.state(job_id) == "queued"
    assert await queue.attempts(job_id) == 0  # cut short is no failed attempt

    handler = Recorder()
    restarted = JobWorker(job_pool, {"send": handler})
    restarted.start()
    try:
        await handler.wait_for(1, within=10)
    finally:
        await stop_soon(restarted)
    assert [payload for payload, _ in handler.runs] == [{"reminder_id": "r1"}]
    assert await queue.state(job_id) == "succeeded"


async def test_worker_process_entry_stops_on_sigterm(job_pool: asyncpg.Pool, queue: JobQueue):
    handler = Recorder()
    worker = JobWorker(job_pool, {"ping": handler})
    task = asyncio.create_task(worker.run_until_signalled())
    await queue.enqueue("ping", {})
    await handler.wait_for(1)  # the worker is serving
    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(10):
        await task
    assert task.exception() is None


async def test_worker_from_settings_uses_the_configured_retry_budget(
    job_pool: asyncpg.Pool, queue: JobQueue, tmp_path: Path
):
    settings = Settings(env="test", data_dir=tmp_path, jobs_max_attempts=2, jobs_retry_initial_seconds=0)
    handler = Recorder(fail_times=99)
    job_id = await queue.enqueue("flaky", {})
    assert await job_worker_from_settings(job_pool, {"flaky": handler}, settings).drain() == 2
    assert await queue.state(job_id) == "failed"


def test_payloads_hold_json_values_only():
    assert encode_payload({"at": datetime(2026, 3, 9, 13, 0, tzinfo=UTC)}) == b'{"at":"2026-03-09T13:00:00+00:00"}'
    with pytest.raises(TypeError):
        encode_payload({"what": object()})


async def test_naive_times_are_refused(queue: JobQueue):
    with pytest.raises(ValueError, match="timezone-aware"):
        await queue.enqueue("x", {}, execute_after=datetime(2026, 3, 9, 13, 0))


async def test_a_worker_without_handlers_idles_and_leaves_jobs_alone(job_pool: asyncpg.Pool, queue: JobQueue):
    job_id = await queue.enqueue("later.handler", {})
    worker = JobWorker(job_pool, {})
    assert await worker.drain() == 0
    task = worker.start()
    await asyncio.sleep(0.3)
    assert not task.done()
    await worker.stop(grace_seconds=5)
    assert task.done() and task.exception() is None
    assert await queue.state(job_id) == "queued"
