"""The worker's idle wait between polls, when a running job writes its retry while the wait is being computed.

A retry is an UPDATE, which pgqueuer's statement-level trigger does not notify: if the worker then waited the whole
poll interval, a retry due in a second would run half a minute late. These tests play that interleaving exactly,
without a database: the probes see the job as still picked, and it finishes before they return.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pgqueuer.domain.types import Channel

from infra.jobs.worker import _QueueManager

POLL = timedelta(seconds=30)


class ProbesThatSeeNothing:
    """The three probes pgqueuer makes before it waits; the last one lets a job finish while it is in flight."""

    def __init__(self, finish_job_during_probe: asyncio.Event | None = None) -> None:
        self.finish_job_during_probe = finish_job_during_probe

    async def eligible_queued_work(self, entrypoints: list[str]) -> int:
        return 0

    async def next_deferred_eta(self, entrypoints: list[str]) -> timedelta | None:
        return None

    async def queued_work(self, entrypoints: list[str]) -> int:
        if self.finish_job_during_probe is not None:
            self.finish_job_during_probe.set()
            await asyncio.sleep(0.01)  # the job's task runs now: its retry is written after this probe's snapshot
        return 0


def manager(probes: ProbesThatSeeNothing) -> _QueueManager:
    return _QueueManager(probes, channel=Channel("hearth_test"))  # type: ignore[arg-type]


async def test_a_job_that_finishes_while_the_wait_is_computed_keeps_the_short_wait():
    finished = asyncio.Event()
    qm = manager(ProbesThatSeeNothing(finished))
    qm.inflight = 1

    async def job() -> None:
        await finished.wait()
        qm.inflight -= 1  # what _dispatch's `finally` does once the retry is written

    job_task = asyncio.create_task(job())
    timeout = await qm._effective_dequeue_timeout(POLL)
    await job_task
    assert qm.inflight == 0
    assert timeout == qm.busy_poll


async def test_an_idle_worker_waits_the_whole_poll_interval():
    assert await manager(ProbesThatSeeNothing())._effective_dequeue_timeout(POLL) == POLL


async def test_a_running_job_caps_the_wait():
    qm = manager(ProbesThatSeeNothing())
    qm.inflight = 1
    assert await qm._effective_dequeue_timeout(POLL) == qm.busy_poll
