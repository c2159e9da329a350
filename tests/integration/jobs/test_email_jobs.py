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


async def test_every_run_of_a_job_sends_the_same_message_id_and_other_jobs_other_ones(
    job_pool: asyncpg.Pool, clock: FakeClock
):
    """A worker that dies after the server accepted the message, before the job is done, runs it again: the resent
    message must be recognisable as the same one (same Message-ID), and another job's message, or the second message
    of one job, must not be taken for it."""
    runs: list[str] = []
    queue = JobQueue(job_pool, clock=clock)
    with smtp_server() as server:
        sender = SmtpEmailSender(
            SmtpConfig(host="127.0.0.1", port=server.port, security="none", from_address="no-reply@hearth.test"),
            clock=clock,
        )

        async def send_then_die_once(payload: dict[str, Any]) -> None:
            await sender.send(OUTBOX[payload["reminder"]])
            runs.append(payload["reminder"])
            if runs.count("r-ada") == 1 and payload["reminder"] == "r-ada":
                raise ConnectionResetError("the worker lost the database after the mail server took the message")

        async def send_two(payload: dict[str, Any]) -> None:
            for n in (1, 2):
                await sender.send(EmailMessage(to="carol@example.org", subject=f"Digest part {n}", text="..."))

        worker = JobWorker(job_pool, {"reminders.send": send_then_die_once, "digest": send_two}, retry=NO_WAIT)
        await queue.enqueue("reminders.send", {"reminder": "r-ada"})
        await queue.enqueue("reminders.send", {"reminder": "r-bob"})
        await queue.enqueue("digest", {})
        assert await worker.drain() == 4, "Ada's job ran twice"
    sent: dict[str, list[str]] = {}
    for received in server.received:
        sent.setdefault(received.rcpt_tos[0], []).append(str(received.message["Message-ID"]))
    ada, bob, carol = sent["ada@example.org"], sent["bob@example.org"], sent["carol@example.org"]
    assert len(ada) == 2 and ada[0] == ada[1], "the retried run resends the same Message-ID"
    assert ada[0].startswith("<hearth.job.") and ada[0].endswith("@hearth.test>")
    assert len({ada[0], *bob, *carol}) == 4, "each other message, the same job's second one too, has its own"
