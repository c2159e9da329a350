"""The pieces together: jobs scheduled on a controllable clock deliver email to a real SMTP server, cancelled ones
never do, a transient SMTP refusal is retried and a permanent one is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from domain.shared.notify import EmailMessage
from infra.jobs.queue import JobQueue
from infra.jobs.worker import JobWorker, RetryPolicy
from infra.notify.email import SmtpConfig, SmtpEmailSender
from tests.support.clock import FakeClock
from tests.support.smtp_server import smtp_server

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay=timedelta(0))
OUTBOX = {
    "r-ada": EmailMessage(to="ada@example.org", subject="Reminder: your upcoming session", text="Monday 09:00 EST"),
    "r-bob": EmailMessage(to="bob@example.org", subject="Reminder: your upcoming session", text="Monday 10:00 EST"),
}


def email_worker(pool: asyncpg.Pool, port: int, clock: FakeClock) -> JobWorker:
    sender = SmtpEmailSender(
        SmtpConfig(host="127.0.0.1", port=port, security="none", from_address="no-reply@hearth.test"), clock=clock
    )

    async def send_reminder(payload: dict[str, Any]) -> None:  # payloads carry ids only
        await sender.send(OUTBOX[payload["reminder"]])

    return JobWorker(pool, {"reminders.send": send_reminder}, retry=NO_WAIT)


async def test_reminders_arrive_at_their_time_and_cancelled_ones_never(job_pool: asyncpg.Pool, clock: FakeClock):
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    session = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    queue = JobQueue(job_pool, clock=clock)
    with smtp_server() as server:
        worker = email_worker(job_pool, server.port, clock)
        await queue.enqueue("reminders.send", {"reminder": "r-ada"}, execute_after=session - timedelta(hours=24))
        bob = await queue.enqueue("reminders.send", {"reminder": "r-bob"}, execute_after=session - timedelta(hours=1))

        clock.set(session - timedelta(hours=24, seconds=1))
        assert await worker.drain(until=clock.now()) == 0
        assert server.received == []

        clock.advance(seconds=1)
        assert await worker.drain(until=clock.now()) == 1
        assert [r.rcpt_tos for r in server.received] == [["ada@example.org"]]

        assert await queue.cancel(bob) is True  # Bob cancelled his session
        clock.set(session)
        assert await worker.drain(until=clock.now()) == 0
    assert [r.rcpt_tos for r in server.received] == [["ada@example.org"]]


async def test_transient_refusal_is_retried_and_permanent_one_is_not(job_pool: asyncpg.Pool, clock: FakeClock):
    queue = JobQueue(job_pool, clock=clock)
    with smtp_server(rcpt_reply="451 4.7.1 Greylisted, come back later", refuse_times=1) as server:
        job = await queue.enqueue("reminders.send", {"reminder": "r-ada"})
        assert await email_worker(job_pool, server.port, clock).drain() == 2
    assert await queue.state(job) == "succeeded"
    assert len(server.received) == 1

    with smtp_server(rcpt_reply="550 5.1.1 No such user") as server:
        job = await queue.enqueue("reminders.send", {"reminder": "r-bob"})
        assert await email_worker(job_pool, server.port, clock).drain() == 1
    assert await queue.state(job) == "failed"
    assert server.received == []
