"""The consumer side: a worker that runs registered handlers for due jobs.

- Handlers are registered by name: `async def handler(payload: dict) -> None`.
- A handler that raises is retried with exponential backoff, up to `RetryPolicy.max_attempts` runs in all; then
  the job is kept with state `failed` (for inspection and manual re-queue). An exception whose `permanent`
  attribute is True (e.g. `DeliveryFailed(permanent=True)`) fails the job at once: a retry cannot help. The job
  log (and stderr) get the failure's type, masked message and frames, never its chained causes.
- Several workers (processes or tasks) may run against one database: pgqueuer claims jobs with
  `FOR UPDATE SKIP LOCKED`, so each job runs once; a worker that dies mid-job leaves a stale heartbeat and the job
  is picked again after `heartbeat_timeout`. A worker that stops cancels the jobs still running when its grace
  period ends and puts them back in the queue, due at once, the cut-short run not counted as an attempt.
- `run()` serves until `request_stop()`/`stop()` (in-process: `start()` in the app's lifespan; as a process:
  `run_until_signalled()`), waiting for running jobs to finish. A database error (a restart, a failover) or a lost
  LISTEN connection does not end it: the loop starts again after a bounded, jittered backoff, as long as it takes.
  `healthy()` says whether the loop is polling (the in-process worker's part of `/readyz`). `drain()` runs every
  job that is due and returns (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from pgqueuer import QueueManager
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.core import buffers, tm
from pgqueuer.core.executors import AbstractEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.domain import models
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.types import Channel, QueueExecutionMode

from infra.jobs.current import running
from infra.jobs.queue import decode_payload, release_due, requeue_interrupted
from infra.jobs.schema import JOBS_CHANNEL, make_queries
from infra.redact import mask_contacts

__all__ = ["GiveUp", "Handler", "JobFailed", "JobWorker", "PermanentJobError", "RetryPolicy"]

log = structlog.get_logger("hearth.jobs")

Handler = Callable[[dict[str, Any]], Awaitable[None]]
# Called once when a job fails for good (no retry left, or a permanent error), with its payload and the masked
# reason, so that the record the job served (e.g. a reminder) does not stay pending forever.
GiveUp = Callable[[dict[str, Any], str], Awaitable[None]]


class PermanentJobError(Exception):
    """Raise from a handler to fail the job without retrying (any exception with `permanent = True` does)."""

    permanent = True


class JobFailed(Exception):
    """What the job log keeps of a handler's last failure: its type and masked message (see `_Executor`)."""


class _Interrupted(BaseException):
    """A handler cancelled because its worker stops: no failure of the job, which goes back to the queue. Not an
    Exception nor a CancelledError, so pgqueuer's dispatch neither fails the job nor logs it `canceled` (which
    deletes it); `_QueueManager._dispatch` re-queues it."""


def _masked(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {mask_contacts(str(exc))}"[:300]


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The defaults retry for about five hours (30 s doubling to the one-hour cap: 12 runs), so that a provider's
    outage of an afternoon delays reminders and notifications rather than losing them."""

    max_attempts: int = 12  # runs in all, the first included
    initial_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts is at least 1")
        if self.initial_delay < timedelta(0) or self.max_delay < timedelta(0) or self.multiplier < 1:
            raise ValueError("retry delays are not negative and the multiplier is at least 1")

    def delay_after(self, failed_runs: int) -> timedelta | None:
        """The wait before the next run after `failed_runs` failures; None when there is no next run."""
        if failed_runs >= self.max_attempts:
            return None
        return min(self.initial_delay * self.multiplier ** (failed_runs - 1), self.max_delay)


@dataclasses.dataclass
class _Executor(AbstractEntrypointExecutor):
    name: str
    handler: Handler
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    on_run: Callable[[], None] = lambda: None
    on_give_up: GiveUp | None = None

    async def execute(self, job: models.Job, context: models.Context) -> None:
        self.on_run()
        run = job.attempts + 1
        payload: dict[str, Any] | None = None
        try:
            try:
                payload = decode_payload(job.payload)
            except ValueError as exc:
                raise PermanentJobError("the job's payload is not a JSON object") from exc
            with running(int(job.id), job.created):
                await self.handler(payload)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise _Interrupted from None
            raise
        except Exception as exc:
            permanent = getattr(exc, "permanent", False) is True
            delay = None if permanent else self.retry.delay_after(run)
            detail = _masked(exc)
            fields = {"job": self.name, "job_id": int(job.id), "run": run, "error": type(exc).__name__}
            # pgqueuer prints what we raise to stderr and stores it, traceback included, in the job log. Both get the
            # handler's frames and a masked message, never its exception or that one's causes: a library's exception
            # may quote an address or a number (aiosmtplib's carries the recipient).
            if delay is None:
                log.error("job.failed", permanent=permanent, detail=detail, **fields)
                if self.on_give_up is not None and payload is not None:
                    await _give_up(self.on_give_up, payload, detail, fields)
                raise JobFailed(detail).with_traceback(exc.__traceback__) from None
            log.warning("job.retry", delay_seconds=delay.total_seconds(), detail=detail, **fields)
            raise RetryRequested(delay=delay, reason=detail).with_traceback(exc.__traceback__) from None
        log.debug("job.done", job=self.name, job_id=int(job.id), run=run)


async def _give_up(hook: GiveUp, payload: dict[str, Any], reason: str, fields: dict[str, Any]) -> None:
    try:
        await hook(payload, reason)
    except Exception as exc:
        # The job is failed either way; the hook's own trouble must not hide why.
        log.error("job.give_up_failed", hook_error=type(exc).__name__, **fields)


class _PoolDriver(AsyncpgPoolDriver):
    """pgqueuer's pool driver, except that leaving it after an outage does not fail. Its exit resets the LISTEN
    connection; when the outage already closed that connection, asyncpg has handed it back to the pool and the reset
    raises InterfaceError, which would replace the outage's own error in the worker's log."""

    async def __aexit__(self, *exc: object) -> None:
        try:
            await super().__aexit__(*exc)
        except (asyncpg.InterfaceError, asyncpg.PostgresError, OSError):
            await self.release_listener()

    async def release_listener(self) -> None:
        """Hands the LISTEN connection back to the pool if this driver still holds it. The worker calls it after
        every run: a run that ends on a lost connection may skip the driver's exit (pgqueuer counts its entries),
        and a connection never handed back makes the pool's close wait forever at shutdown."""
        listener, self._listener_connection = self._listener_connection, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await self._pool.release(listener)  # a no-op when asyncpg already took it back


class _QueueManager(QueueManager):
    """pgqueuer's manager with these changes:

    - drain mode stops once no job is *due* (pgqueuer's own waits for jobs scheduled in the future);
    - while a job runs (or ran when the wait began to be computed), the idle wait is capped at `busy_poll`.
      pgqueuer's change trigger is statement-level, so it notifies inserts and deletes but not updates: a retry (an
      UPDATE) wakes nobody, and a wait computed while the retry was being written would otherwise last the whole
      poll interval;
    - `on_beat` is called each time the loop has queried the queue (the worker's liveness);
    - a job whose handler is cancelled (the worker stops past its grace period) is re-queued to run again, its run
      not counted as an attempt; pgqueuer would log it `canceled`, which deletes it;
    - with `end_on_listener_loss`, a failed LISTEN probe (every `listener_check`) ends the run at once with
      `listener_lost` set, for the worker to start it again. pgqueuer would only note it, or end the run at its
      next poll, and until then no NOTIFY arrives: new jobs would wait for the poll interval.
    """

    busy_poll: timedelta = timedelta(seconds=0.5)
    inflight: int = 0
    listener_check: timedelta = timedelta(seconds=10)
    end_on_listener_loss: bool = False
    listener_lost: BaseException | None = None
    job_pool: asyncpg.Pool | None = None  # for re-queueing interrupted jobs

    def on_beat(self) -> None:
        pass

    async def _run_periodic_health_check(self, interval: timedelta = timedelta(seconds=10)) -> None:
        try:
            await super()._run_periodic_health_check(self.listener_check)
        except Exception as exc:
            if not self.end_on_listener_loss:
                raise
            self.listener_lost = exc
            self.shutdown.set()

    async def _dispatch(
        self,
        job: models.Job,
        jbuff: buffers.JobStatusLogBuffer,
        hbuff: buffers.HeartbeatBuffer,
        heartbeat_timeout: timedelta,
    ) -> None:
        self.inflight += 1
        try:
            await super()._dispatch(job, jbuff, hbuff, heartbeat_timeout)
        except _Interrupted:
            # Shielded: the write must outlive a second cancel, or the job would wait for its heartbeat to go stale.
            await asyncio.shield(self._requeue(job))
            raise asyncio.CancelledError from None
        finally:
            self.inflight -= 1

    async def _requeue(self, job: models.Job) -> None:
        fields = {"job": job.entrypoint, "job_id": int(job.id)}
        try:
            requeued = self.job_pool is not None and await requeue_interrupted(
                self.job_pool, int(job.id), self.queue_manager_id
            )
        except Exception as exc:
            # It stays picked; once its heartbeat is stale (heartbeat_timeout) a worker picks it again.
            log.warning("job.requeue_failed", error=type(exc).__name__, **fields)
            return
        log.info("job.interrupted", requeued=requeued, **fields)

    async def _effective_dequeue_timeout(self, dequeue_timeout: timedelta) -> timedelta:
        # Read before the probes too: a job that finishes while they run may have written its retry after their
        # snapshot, and it would be gone from `inflight` by the time they return.
        busy = self.inflight > 0
        timeout = await super()._effective_dequeue_timeout(dequeue_timeout)
        self.on_beat()
        return min(timeout, self.busy_poll) if busy or self.inflight else timeout

    async def _maybe_drain_shutdown(self, mode: QueueExecutionMode, task_manager: tm.TaskManager) -> None:
        if mode is not QueueExecutionMode.drain:
            return
        if task_manager.tasks:
            await asyncio.sleep(0)
        if task_manager.tasks:
            return
        if await self.queries.eligible_queued_work(list(self.entrypoint_registry)) == 0:
            self.shutdown.set()


class JobWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Handler],
        *,
        retry: RetryPolicy | None = None,
        concurrency: int = 10,
        poll_interval: timedelta = timedelta(seconds=30),
        heartbeat_timeout: timedelta = timedelta(seconds=30),
        on_give_up: Mapping[str, GiveUp] | None = None,
        restart_delay: timedelta = timedelta(seconds=1),
        restart_max_delay: timedelta = timedelta(seconds=30),
        listener_check: timedelta = timedelta(seconds=10),
    ) -> None:
        """`on_give_up`: per handler name, what to do when one of its jobs fails for good (see `GiveUp`).
        `restart_delay` doubles after each failed start of the loop in a row, up to `restart_max_delay`, and is
        jittered (half to all of it) so that workers do not all reconnect at once after a database restart."""
        if concurrency < 2:
            raise ValueError("concurrency is at least 2")
        if restart_delay <= timedelta(0) or restart_max_delay < restart_delay:
            raise ValueError("the restart delay is positive and at most restart_max_delay")
        self._pool = pool
        self._handlers = dict(handlers)
        self._on_give_up = dict(on_give_up or {})
        if unknown := set(self._on_give_up) - set(self._handlers):
            raise ValueError(f"give-up hooks for jobs without a handler: {sorted(unknown)}")
        self._retry = retry or RetryPolicy()
        self._concurrency = concurrency
        self._batch_size = max(1, concurrency // 2)
        self._poll_interval = poll_interval
        self._heartbeat_timeout = heartbeat_timeout
        self._restart_delay = restart_delay
        self._restart_max_delay = restart_max_delay
        self._listener_check = listener_check
        # A loop that polls waits at most poll_interval between polls; one that restarts waits at most
        # restart_max_delay before it polls again. Longer than both together, it is failing over and over or hung.
        self._stale_after = (2 * poll_interval + restart_max_delay).total_seconds()
        self._manager: _QueueManager | None = None
        self._running = False
        self._stop_requested = False
        self._stopping = asyncio.Event()
        self._last_beat = 0.0
        self._task: asyncio.Task[None] | None = None
        self._runs = 0

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)

    def _new_manager(self, driver: _PoolDriver) -> _QueueManager:
        manager = _QueueManager(make_queries(driver), channel=Channel(JOBS_CHANNEL))
        manager.listener_check = self._listener_check
        manager.job_pool = self._pool
        manager.on_beat = self._beat  # type: ignore[method-assign]
        for name, handler in self._handlers.items():
            manager.register_executor(
                name,
                _Executor(
                    EntrypointExecutorParameters(
                        concurrency_limit=0, func=_unused_entrypoint, accepts_context=False, on_failure="hold"
                    ),
                    name=name,
                    handler=handler,
                    retry=self._retry,
                    on_run=self._count_run,
                    on_give_up=self._on_give_up.get(name),
                ),
            )
        return manager

    def _count_run(self) -> None:
        self._runs += 1

    def _beat(self) -> None:
        self._last_beat = time.monotonic()

    def healthy(self) -> bool:
        """True while the worker serves: its loop runs and has polled the queue lately. False when it is stopped,
        its task ended, or it has not polled for longer than a poll and a restart take (it keeps failing to reach the
        database, or it hangs)."""
        if not self._running or (self._task is not None and self._task.done()):
            return False
        return time.monotonic() - self._last_beat <= self._stale_after

    async def run(self) -> None:
        """Serve until `request_stop()`; running jobs are finished before it returns. Any error of the loop (the
        database restarting, failing over, a lost connection) starts it again after a backoff, for as long as it
        takes: jobs enqueued meanwhile wait in the database."""
        if self._running:
            raise RuntimeError("this worker is already running")
        self._running = True
        self._last_beat = time.monotonic()  # starting counts as alive, for as long as a poll may take
        failures = 0
        try:
            while not self._stop_requested:
                started = self._last_beat
                try:
                    lost = await self._serve()
                except Exception as exc:
                    error: BaseException = exc
                else:
                    if self._stop_requested:
                        return
                    error = lost or RuntimeError("the queue loop ended unasked")
                failures = 1 if self._last_beat > started else failures + 1  # it polled: a new outage
                delay = self._backoff(failures)
                log.error(
                    "jobs.worker_crashed",
                    error=type(error).__name__,
                    detail=mask_contacts(str(error))[:300],
                    failures=failures,
                    restart_in_seconds=round(delay, 2),
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._running = False

    async def _serve(self) -> BaseException | None:
        """One run of pgqueuer's loop; returns why it ended when the LISTEN connection was lost."""
        driver = _PoolDriver(self._pool)
        manager = self._manager = self._new_manager(driver)
        manager.end_on_listener_loss = True
        log.info("jobs.worker_started", handlers=self.names, concurrency=self._concurrency)
        try:
            await manager.run(
                dequeue_timeout=self._poll_interval,
                batch_size=self._batch_size,
                mode=QueueExecutionMode.continuous,
                max_concurrent_tasks=self._concurrency,
                heartbeat_timeout=self._heartbeat_timeout,
            )
        finally:
            self._manager = None
            await driver.release_listener()
            log.info("jobs.worker_stopped")
        return manager.listener_lost

    def _backoff(self, failures: int) -> float:
        # The exponent is capped: after hours of outage 2 ** failures would overflow timedelta.
        ceiling = min(self._restart_delay * 2 ** min(failures - 1, 30), self._restart_max_delay)
        return float(ceiling.total_seconds() * random.uniform(0.5, 1.0))  # noqa: S311 (jitter, not a secret)

    def request_stop(self) -> None:
        self._stop_requested = True
        self._stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()

    def start(self) -> asyncio.Task[None]:
        """Run in the background of this event loop (the app's lifespan); `stop()` ends it."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("this worker is already started")
        self._stop_requested = False
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="hearth-job-worker")
        self._task.add_done_callback(_log_crash)
        return self._task

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Ask the worker to stop, wait up to `grace_seconds` for running jobs, then cancel them: a cancelled job goes
        back to the queue, due at once and its attempt not counted (if the database cannot be reached for that, it
        is picked again once its heartbeat is stale)."""
        self.request_stop()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=grace_seconds)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # A crash was logged when it happened (`_log_crash`); stopping never raises, so shutdown goes on.

    async def run_until_signalled(self) -> None:
        """The `hearth worker` process: serve until SIGINT or SIGTERM."""
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.run()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)

    async def drain(self, *, until: datetime | None = None, max_seconds: float = 60.0) -> int:
        """Run jobs until none is due, then return how many handler runs it made (retries included).
        `until`: first make due every job meant for that time or earlier on the application's clock
        (see `JobQueue.release_due`), for tests that move a fake clock."""
        if until is not None:
            await release_due(self._pool, until)
        driver = _PoolDriver(self._pool)
        manager = self._new_manager(driver)
        before = self._runs
        try:
            await asyncio.wait_for(
                manager.run(
                    dequeue_timeout=timedelta(milliseconds=100),
                    batch_size=self._batch_size,
                    mode=QueueExecutionMode.drain,
                    max_concurrent_tasks=self._concurrency,
                    heartbeat_timeout=self._heartbeat_timeout,
                    log_aggregation_interval=timedelta(0),
                ),
                max_seconds,
            )
        finally:
            await driver.release_listener()
        return self._runs - before


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("jobs.worker_crashed", error=type(exc).__name__, detail=str(exc)[:300])


async def _unused_entrypoint(job: models.Job) -> None:  # pgqueuer wants a function; _Executor calls the handler
    raise NotImplementedError
