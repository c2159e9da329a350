"""Settings -> job queue adapters (called once by the composition root)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import asyncpg

from infra.jobs.worker import GiveUp, Handler, JobWorker, RetryPolicy
from infra.settings import Settings

__all__ = ["job_worker_from_settings", "retry_policy_from_settings"]


def retry_policy_from_settings(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.jobs_max_attempts,
        initial_delay=timedelta(seconds=settings.jobs_retry_initial_seconds),
        max_delay=timedelta(seconds=settings.jobs_retry_max_seconds),
    )


def job_worker_from_settings(
    pool: asyncpg.Pool,
    handlers: Mapping[str, Handler],
    settings: Settings,
    *,
    on_give_up: Mapping[str, GiveUp] | None = None,
) -> JobWorker:
    return JobWorker(
        pool,
        handlers,
        on_give_up=on_give_up,
        retry=retry_policy_from_settings(settings),
        concurrency=settings.jobs_concurrency,
        poll_interval=timedelta(seconds=settings.jobs_poll_seconds),
    )
