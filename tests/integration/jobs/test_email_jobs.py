"""The pieces together: jobs scheduled on a controllable clock deliver email to a real SMTP server, cancelled ones
never do, a transient SMTP refusal is retried and a permanent one is not, and a refused address stays out of the job
log and the logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs

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


async def test_a_greylisted_address_never_reaches_the_job_log_or_the_logs(
    job_pool: asyncpg.Pool, clock: FakeClock, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
):
    # Real servers quote the recipient in their refusal; aiosmtplib's exception carries it too.
    greylisted = "451 4.7.1 <jane.doe@example.org>: Recipient address rejected: Greylisted, come back later"
    message = EmailMessage(to="Jane Doe <jane.doe@example.org>", subject="Reminder", text="Monday 09:00 EST")
    queue = JobQueue(job_pool, clock=clock)
    caplog.set_level(logging.DEBUG)
    with smtp_server(rcpt_reply=greylisted) as server, capture_logs() as logs:
        sender = SmtpEmailSender(
            SmtpConfig(host="127.0.0.1", port=server.port, security="none", from_address="no-reply@hearth.test")
        )

        async def send_reminder(payload: dict[str, Any]) -> None:
            await sender.send(message)

        job = await queue.enqueue("reminders.send", {"reminder": "r-jane"})
        worker = JobWorker(job_pool, {"reminders.send": send_reminder}, retry=NO_WAIT)
        assert await worker.drain() == 3  # two retries, then it gives up
    assert server.collector.refused == 3
    assert await queue.state(job) == "failed"

    rows = await job_pool.fetch("SELECT traceback::text FROM jobs.pgqueuer_log WHERE traceback IS NOT NULL")
    assert len(rows) == 3
    assert all("451 4.7.1 <address>: Recipient address rejected" in row["traceback"] for row in rows)  # still useful
    ours = [record for record in caplog.records if not record.name.startswith("mail.log")]  # the test server's own
    traces = {
        "job log": "\n".join(row["traceback"] for row in rows),
        "structlog": repr(logs),
        "logging": "\n".join(logging.Formatter().format(record) for record in ours),
        "stderr": capfd.readouterr().err,
    }
    for where, text in traces.items():
        assert "jane.doe" not in text, f"{where}: {text}"
