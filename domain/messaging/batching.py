"""Group commit: concurrent requests in one process are handled together, one batch at a time.

The first request to arrive while no batch is running starts a worker task; the worker takes everything queued so
far (up to `max_size`), hands it to `run`, resolves each request's future with its own result or error, and
repeats while requests keep arriving. A lone request is run at once (a batch of one), so batching adds no wait;
under load, the requests that arrive while one batch is in its transaction form the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("hearth.batching")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        run: Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]],
        max_size: int,
        *,
        after: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`run` answers each request, in order, with its result or the exception that request gets; `after`
        (if given) runs once a batch's waiters are answered, before the next batch begins."""
        if max_size < 1:
            raise ValueError("a batch holds at least one request")
        self._run = run
        self._after = after
        self._max_size = max_size
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # how many batches ran (tests, diagnostics)
        self.largest = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        worker = self._worker
        if worker is None or worker.done() or worker.get_loop() is not loop:
            self._worker = loop.create_task(self._drain(), name="hearth-batch")
        return await future

    async def _drain(self) -> None:
        me = asyncio.current_task()
        try:
            while self._queue:
                taken = self._queue[: self._max_size]
                del self._queue[: self._max_size]
                # A request whose caller gave up before its batch began is dropped, never half-done.
                batch = [(item, future) for item, future in taken if not future.done()]
                if not batch:
                    continue
                self.batches += 1
                self.largest = max(self.largest, len(batch))
                try:
                    outcomes = await self._run([item for item, _ in batch])
                except BaseException as exc:  # every waiter gets the failure
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                        raise
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
                if self._after is not None:
                    try:
                        await self._after()
                    except Exception:
                        log.warning("batch follow-up failed", exc_info=True)
        finally:
            if self._worker is me:
                self._worker = None
