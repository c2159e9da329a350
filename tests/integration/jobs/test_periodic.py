"""Periodic jobs: one chain on a fixed grid however many processes start it, and a failing run does not end it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.jobs import periodic
from infra.jobs.queue import JobQueue
from infra.jobs.worker import JobWorker, RetryPolicy
from tests.support.clock import FakeClock

HOUR = timedelta(hours=1)


def test_the_next_slot_is_on_the_grid_and_strictly_later():
    at = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert periodic.next_slot(at, HOUR) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert periodic.next_slot(at + timedelta(minutes=59), HOUR) == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        periodic.next_slot(at, timedelta(0))


async def _queued(job_pool) -> list[str]:
    async with job_pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT headers->>'hearth_due_at' FROM jobs.pgqueuer WHERE entrypoint = 'tick' AND status = 'queued'"
            " ORDER BY 1"
        )
    return [row[0] for row in rows]


async def test_processes_starting_and_running_the_chain_keep_one_job_per_slot(job_pool):
    clock = FakeClock(datetime(2026, 11, 27, 15, 20, tzinfo=UTC))
    queue = JobQueue(job_pool, clock=clock)
    runs: list[datetime] = []

    async def work() -> None:
        runs.append(clock.now())

    # Two processes, each with its own handler and worker.
    workers = [JobWorker(job_pool, {"tick": periodic.periodic(queue, "tick", HOUR, clock, work)}) for _ in range(2)]
    assert await periodic.start(queue, "tick", clock) is not None
    assert await periodic.start(queue, "tick", clock) is None, "a start is already waiting"
    assert await workers[0].drain() == 1 and runs == [clock.now()]
    assert await _queued(job_pool) == ["2026-11-27T16:00:00+00:00"]

    # A later start (another process) runs once more, and schedules the same next slot: still one chain.
    clock.advance(minutes=10)
    await periodic.start(queue, "tick", clock)
    assert await workers[1].drain() == 1
    assert await _queued(job_pool) == ["2026-11-27T16:00:00+00:00"]

    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))
    assert await workers[0].drain(until=clock.now()) == 1
    assert await _queued(job_pool) == ["2026-11-27T17:00:00+00:00"]


async def test_a_failing_run_still_schedules_the_next(job_pool):
    clock = FakeClock(datetime(2026, 11, 27, 15, 20, tzinfo=UTC))
    queue = JobQueue(job_pool, clock=clock)

    async def work() -> None:
        raise RuntimeError("database away")

    worker = JobWorker(
        job_pool,
        {"tick": periodic.periodic(queue, "tick", HOUR, clock, work)},
        retry=RetryPolicy(max_attempts=1),
    )
    await periodic.start(queue, "tick", clock)
    assert await worker.drain() == 1
    assert await _queued(job_pool) == ["2026-11-27T16:00:00+00:00"]
