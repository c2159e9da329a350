"""The job this task is running, for adapters whose output must be the same on every run of one job.

An email's Message-ID is the case: a worker that dies after the mail server accepted a message, but before the job
was marked done, runs the job again; the message it then sends carries the same Message-ID, so the receiving side
can tell it is the one it already has. The key is the job's row (its id and creation time, which stay the same
across retries and re-queues) and the message's place among the job's sends (the first, the second...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

__all__ = ["next_message_key", "running"]


@dataclasses.dataclass(slots=True)
class _Run:
    job_id: int
    created: datetime
    messages: int = 0


_current: ContextVar[_Run | None] = ContextVar("hearth_current_job", default=None)


@contextmanager
def running(job_id: int, created: datetime) -> Iterator[None]:
    """Marks the enclosed code as one run of the job (the worker wraps each handler call in it)."""
    token = _current.set(_Run(job_id, created))
    try:
        yield
    finally:
        _current.reset(token)


def next_message_key() -> str | None:
    """A key for the running job's next outgoing message, the same on every run of the job; None outside a job."""
    run = _current.get()
    if run is None:
        return None
    run.messages += 1
    created = int(run.created.timestamp() * 1_000_000)
    return f"hearth.job.{run.job_id}.{created}.{run.messages}"
