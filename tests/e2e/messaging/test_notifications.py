"""Unread messages are announced by email after a delay, without content, at most once an hour."""

from __future__ import annotations

from tests.e2e.messaging.conftest import conversation_of
from tests.support.users import relogin


async def _send(api, user, cid, body):
    response = await api.post(
        f"/api/v1/conversations/{cid}/messages", json={"client_message_id": body, "body": body}, headers=user.headers
    )
    assert response.status_code == 201
    return response.json()


async def _drain(app, clock):
    await app[0].state.container.worker.drain(until=clock.now())


def _to(smtp, email):
    return [r for r in smtp.received if email in r.rcpt_tos]


async def test_unread_message_is_announced_once_without_content(api, app, care, clock, smtp):
    cid = (await conversation_of(api, care))["id"]
    await _send(api, care.client, cid, "I feel anxious about Tuesday")
    clock.advance(minutes=9)
    await _drain(app, clock)
    assert _to(smtp, care.therapist.email) == [], "not before 10 minutes"
    clock.advance(minutes=2)
    await _drain(app, clock)
    [mail] = _to(smtp, care.therapist.email)
    text = mail.message.get_body(("plain",)).get_content()
    assert "new message" in text and "anxious" not in text and "Tuesday" not in text
    await relogin(api, care.client)
    await _send(api, care.client, cid, "Another one")
    clock.advance(minutes=11)
    await _drain(app, clock)
    assert len(_to(smtp, care.therapist.email)) == 1, "throttled to one an hour per conversation"


async def test_a_read_message_is_not_announced(api, app, care, clock, smtp):
    cid = (await conversation_of(api, care))["id"]
    sent = await _send(api, care.client, cid, "Quick question")
    await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": sent["seq"]}, headers=care.therapist.headers)
    clock.advance(minutes=11)
    await _drain(app, clock)
    assert _to(smtp, care.therapist.email) == []


async def _on_job_queue(app, statement: str):
    import asyncpg

    from infra.jobs.queue import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(app[0].state.container.settings.database_url))
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def _queued_notify_jobs(app) -> int:
    return await _on_job_queue(
        app, "SELECT count(*) FROM jobs.pgqueuer WHERE entrypoint = 'messages.notify_unread' AND status = 'queued'"
    )


async def test_one_pending_job_covers_later_messages_with_the_same_emails(api, app, care, clock, smtp):
    """Messages arriving while a notification job is pending queue no job of their own; the pending one then
    sends exactly the emails one job per message would have sent (each message's own due time, the throttle)."""
    cid = (await conversation_of(api, care))["id"]
    first = await _send(api, care.client, cid, "first")  # 15:00
    clock.advance(minutes=2)
    await _send(api, care.client, cid, "second")  # 15:02
    clock.advance(minutes=2)
    await _send(api, care.client, cid, "third")  # 15:04
    assert await _queued_notify_jobs(app) == 1, "one job for the three messages"
    await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": first["seq"]}, headers=care.therapist.headers)
    clock.advance(minutes=7)  # 15:11: the first was read; the second is unread for 9 minutes only
    await _drain(app, clock)
    assert _to(smtp, care.therapist.email) == []
    clock.advance(minutes=2)  # 15:13: the second has been unread for 11 minutes
    await _drain(app, clock)
    assert len(_to(smtp, care.therapist.email)) == 1

    clock.advance(minutes=47)  # 16:00, the throttle holds until 16:13
    await relogin(api, care.client)
    await _send(api, care.client, cid, "fourth")  # its job is due at 16:10, inside the throttle
    clock.advance(minutes=8)
    await _send(api, care.client, cid, "fifth")  # 16:08: due at 16:18, past the throttle; the 16:10 job is pending
    assert await _queued_notify_jobs(app) == 1
    clock.advance(minutes=3)  # 16:11
    await _drain(app, clock)
    assert len(_to(smtp, care.therapist.email)) == 1, "throttled"
    clock.advance(minutes=8)  # 16:19
    await _drain(app, clock)
    assert len(_to(smtp, care.therapist.email)) == 2, "the fifth message's own due time, past the throttle"
    clock.advance(minutes=30)
    await _drain(app, clock)
    assert len(_to(smtp, care.therapist.email)) == 2


async def test_an_email_the_mail_server_refused_for_now_is_sent_on_the_retry(api, app, care, clock, smtp):
    cid = (await conversation_of(api, care))["id"]
    await _send(api, care.client, cid, "Are we still on for Tuesday?")
    clock.advance(minutes=11)
    smtp.collector.rcpt_reply, smtp.collector.refuse_times = "451 4.7.1 Try again later", 1
    # The clinical app these tests share retries at once (jobs_retry_initial_seconds=0): one drain runs both tries.
    await _drain(app, clock)
    assert smtp.collector.refused == 1
    assert len(_to(smtp, care.therapist.email)) == 1, "the refused email is sent when the job is retried"
