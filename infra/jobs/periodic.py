"""Periodic jobs on the one-shot queue: each run first enqueues the next one, at the next slot of a fixed grid.

The grid (multiples of `every` since the Unix epoch, on the application's clock) and a dedupe key per slot let
any number of processes start the chain (`start`) or keep it going: they all name the same next slot, so the
chains merge into one instead of multiplying. Enqueuing the next run before the work means a failing run does not
end the chain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.shared.ports import Clock
from infra.jobs.queue import JobQueue
from infra.jobs.worker import Handler

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_slot(now: datetime, every: timedelta) -> datetime:
    """The first slot of the grid strictly after `now`."""
    if every <= timedelta(0):
        raise ValueError("a period must be positive")
    return _EPOCH + ((now - _EPOCH) // every + 1) * every


def _dedupe_key(name: str, at: datetime) -> str:
    return f"{name}@{at.isoformat()}"


async def start(queue: JobQueue, name: str, clock: Clock) -> int | None:
    """Run `name` now (then on its grid). A start already waiting to run makes this one a no-op."""
    return await queue.enqueue_once(name, {}, clock.now(), dedupe_key=f"{name}@start")


def periodic(queue: JobQueue, name: str, every: timedelta, clock: Clock, work: Callable[[], Awaitable[Any]]) -> Handler:
    """The handler to register under `name`: schedules the next slot, then does `work`."""

    async def handler(_: dict[str, Any]) -> None:
        at = next_slot(clock.now(), every)
        await queue.enqueue_once(name, {}, at, dedupe_key=_dedupe_key(name, at))
        await work()

    return handler
