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
