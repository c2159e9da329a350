"""Messaging over REST: welcome message, idempotent sends, gap-free after_seq, receipts, after-hours reply,
encryption at rest and access."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg

from tests.e2e.messaging.conftest import conversation_of, in_care
from tests.support.scheduling import publish_hours
from tests.support.users import relogin


async def _send(api, user, conversation_id, body, cmid=None):
    return await api.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_message_id": cmid or str(uuid.uuid4()), "body": body},
        headers=user.headers,
    )


async def test_first_booking_opens_a_conversation_with_the_welcome_message(api, care):
    conversation = await conversation_of(api, care)
    assert conversation["therapist_id"] == care.therapist.id and conversation["unread_count"] == 1
    items = (await api.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=care.client.headers)).json()[
        "items"
    ]
    assert [(m["seq"], m["kind"], m["sender_id"]) for m in items] == [(1, "welcome", care.therapist.id)]
    assert "Sam" in items[0]["body"] and "988" in items[0]["body"]


async def test_a_returning_clients_booking_keeps_the_one_conversation(api, care):
    first = await conversation_of(api, care)
    again = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": care.therapist.id,
            "start": "2026-12-03T15:00:00Z",
            "duration_minutes": 50,
            "modality": "audio",
        },
        headers=care.client.headers,
    )
    assert again.status_code == 201, again.text
    listed = (await api.get("/api/v1/conversations", headers=care.client.headers)).json()["items"]
    assert [c["id"] for c in listed] == [first["id"]]
    items = (await api.get(f"/api/v1/conversations/{first['id']}/messages", headers=care.client.headers)).json()[
        "items"
    ]
    assert [m["kind"] for m in items] == ["welcome"]


async def test_sends_are_idempotent_and_ordered(api, care):
    conversation = await conversation_of(api, care)
    cid = conversation["id"]
    first = await _send(api, care.client, cid, "Hello", "m-1")
    assert first.status_code == 201 and first.json()["seq"] == 2
    retry = await _send(api, care.client, cid, "Hello", "m-1")
    assert retry.status_code == 200 and retry.json() == first.json()
    reuse = await _send(api, care.client, cid, "Something else", "m-1")
    assert reuse.status_code == 422 and reuse.json()["code"] == "client_message_id_reused"
    reply = await _send(api, care.therapist, cid, "Hi Sam", "t-1")
    assert reply.json()["seq"] == 3
    after = (await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.therapist.headers)).json()
    assert [m["body"] for m in after["items"]] == ["Hello", "Hi Sam"] and after["next_cursor"] is None


async def test_concurrent_senders_get_a_gap_free_sequence(api, care):
    cid = (await conversation_of(api, care))["id"]
    results = await asyncio.gather(
        *[_send(api, care.client if i % 2 else care.therapist, cid, f"message {i}") for i in range(40)]
    )
    assert all(r.status_code == 201 for r in results)
    seqs = sorted(r.json()["seq"] for r in results)
    assert seqs == list(range(2, 42))
    page1 = (await api.get(f"/api/v1/conversations/{cid}/messages?limit=25", headers=care.client.headers)).json()
    page2 = (
        await api.get(
            f"/api/v1/conversations/{cid}/messages?limit=25&after_seq={page1['next_cursor']}",
            headers=care.client.headers,
        )
    ).json()
    assert [m["seq"] for m in page1["items"] + page2["items"]] == list(range(1, 42))


async def test_a_full_page_of_the_largest_size_says_another_follows(api, care):
    # The page size's maximum (200) must still answer next_cursor when more messages follow.
    cid = (await conversation_of(api, care))["id"]
    results = await asyncio.gather(*[_send(api, care.client, cid, f"note {i}") for i in range(201)])
    assert all(r.status_code == 201 for r in results)
    url = f"/api/v1/conversations/{cid}/messages?limit=200"
    first = (await api.get(url, headers=care.client.headers)).json()
    assert len(first["items"]) == 200 and first["next_cursor"] == "200"
    rest = (await api.get(f"{url}&after_seq={first['next_cursor']}", headers=care.client.headers)).json()
    assert [m["seq"] for m in rest["items"]] == [201, 202] and rest["next_cursor"] is None


async def test_numbers_beyond_the_databases_range_are_refused_as_bad_input(api, care):
    cid = (await conversation_of(api, care))["id"]
    huge = 2**63
    page = await api.get(f"/api/v1/conversations/{cid}/messages?after_seq={huge}", headers=care.client.headers)
    assert page.status_code == 422 and page.headers["content-type"].startswith("application/problem+json")
    read = await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": huge}, headers=care.client.headers)
    assert read.status_code == 422
    largest = await api.get(f"/api/v1/conversations/{cid}/messages?after_seq={huge - 1}", headers=care.client.headers)
    assert largest.status_code == 200 and largest.json()["items"] == []


async def test_read_receipts_and_unread_counts(api, care):
    cid = (await conversation_of(api, care))["id"]
    await _send(api, care.therapist, cid, "One")
    await _send(api, care.therapist, cid, "Two")
    assert (await conversation_of(api, care))["unread_count"] == 3
    read = await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": 2}, headers=care.client.headers)
    assert read.json()["last_read_seq"] == 2
    assert (await conversation_of(api, care))["unread_count"] == 1
    # The therapist's list carries the client's receipt (a page opened later shows it), the client's their own none.
    mine = (await api.get("/api/v1/conversations", headers=care.therapist.headers)).json()["items"]
    assert [c["peer_read_seq"] for c in mine if c["id"] == cid] == [2]
    assert (await conversation_of(api, care))["peer_read_seq"] == 0
    back = await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": 1}, headers=care.client.headers)
    assert back.json()["last_read_seq"] == 2, "a read cursor never moves back"


async def test_after_hours_message_gets_one_automatic_reply_per_off_period(api, care, clock):
    await publish_hours(
        api, care.therapist, messaging_hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]
    )
    cid = (await conversation_of(api, care))["id"]
    clock.set(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))  # Friday 22:00 in New York: after hours
    await relogin(api, care.client, care.therapist)
    await _send(api, care.client, cid, "Are you there?")
    await _send(api, care.client, cid, "Hello?")
    items = (await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.client.headers)).json()[
        "items"
    ]
    kinds = [m["kind"] for m in items]
    assert kinds == ["user", "auto_reply", "user"], kinds
    assert "Monday" in items[1]["body"] and "988" in items[1]["body"]
    clock.set(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # Monday 22:00: a new off-period
    await relogin(api, care.client)
    await _send(api, care.client, cid, "Me again")
    kinds = [
        m["kind"]
        for m in (
            await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=4", headers=care.client.headers)
        ).json()["items"]
    ]
    assert kinds == ["user", "auto_reply"]


async def test_bodies_are_encrypted_at_rest(api, care, database_url):
    cid = (await conversation_of(api, care))["id"]
    marker = f"canary-{uuid.uuid4().hex}"
    await _send(api, care.client, cid, f"secret {marker}")
    conn = await asyncpg.connect(database_url)
    try:
        bodies = await conn.fetch("SELECT body FROM messages")
        assert bodies and all(marker.encode() not in bytes(r["body"]) for r in bodies)
        # A ciphertext moved to another row refuses to open instead of showing the wrong text.
        await conn.execute(
            "UPDATE messages SET body = (SELECT body FROM messages WHERE seq = 2 AND conversation_id = $1) "
            "WHERE seq = 1 AND conversation_id = $1",
            uuid.UUID(cid),
        )
    finally:
        await conn.close()
    broken = await api.get(f"/api/v1/conversations/{cid}/messages", headers=care.client.headers)
    assert broken.status_code == 500 or broken.json().get("code") == "decryption_failed"


async def test_strangers_cannot_read_or_send(api, care):
    cid = (await conversation_of(api, care))["id"]
    other = await in_care(api)
    for user in (other.client, other.therapist):
        assert (await api.get(f"/api/v1/conversations/{cid}/messages", headers=user.headers)).status_code == 404
        assert (await _send(api, user, cid, "intrusion")).status_code == 404
        assert (
            await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": 1}, headers=user.headers)
        ).status_code == 404
    started = await api.post(
        "/api/v1/conversations", json={"client_id": care.client.id}, headers=other.therapist.headers
    )
    assert started.status_code == 404


async def test_opening_a_conversation_that_exists_answers_it_as_the_list_shows_it(api, care):
    cid = (await conversation_of(api, care))["id"]
    for n in range(3):
        assert (await _send(api, care.client, cid, f"Question {n}")).status_code == 201
    read = await api.post(f"/api/v1/conversations/{cid}/read", json={"seq": 1}, headers=care.client.headers)
    assert read.status_code == 200
    listed = (await api.get("/api/v1/conversations", headers=care.therapist.headers)).json()["items"]
    assert [(c["id"], c["unread_count"], c["peer_read_seq"]) for c in listed] == [(cid, 3, 1)]
    opened = await api.post("/api/v1/conversations", json={"client_id": care.client.id}, headers=care.therapist.headers)
    assert opened.status_code == 200, "nothing was created: 200, not 201"
    assert opened.json() == listed[0]


async def test_opening_a_conversation_is_201_only_when_it_creates_one(api, care, database_url):
    old = (await conversation_of(api, care))["id"]
    conn = await asyncpg.connect(database_url)
    try:  # the pair's conversation was closed while their care goes on: none is open
        await conn.execute("UPDATE conversations SET closed_at = now() WHERE id = $1", uuid.UUID(old))
    finally:
        await conn.close()
    created = await api.post(
        "/api/v1/conversations", json={"client_id": care.client.id}, headers=care.therapist.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["id"] != old and created.json()["last_seq"] == 1  # new, with its welcome message
    again = await api.post("/api/v1/conversations", json={"client_id": care.client.id}, headers=care.therapist.headers)
    assert again.status_code == 200, again.text
    assert again.json() == created.json()


async def test_away_status_replies_once_until_cleared(api, care):
    cid = (await conversation_of(api, care))["id"]
    assert (
        await api.put("/api/v1/therapists/me/away", json={"away": True}, headers=care.therapist.headers)
    ).json() == {"away": True}
    await _send(api, care.client, cid, "Hello?")
    await _send(api, care.client, cid, "Still there?")
    kinds = [
        m["kind"]
        for m in (
            await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.client.headers)
        ).json()["items"]
    ]
    assert kinds == ["user", "auto_reply", "user"]
    await api.put("/api/v1/therapists/me/away", json={"away": False}, headers=care.therapist.headers)
    await _send(api, care.client, cid, "Back?")
    kinds = [
        m["kind"]
        for m in (
            await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=4", headers=care.client.headers)
        ).json()["items"]
    ]
    assert kinds == ["user"]


async def test_editing_settings_while_away_keeps_the_off_period_and_its_one_reply(api, care, clock):
    cid = (await conversation_of(api, care))["id"]
    away = {"away": True}
    await api.put("/api/v1/therapists/me/away", json=away, headers=care.therapist.headers)
    await _send(api, care.client, cid, "Hello?")
    clock.advance(minutes=5)  # within the access tokens' life
    await api.put(
        "/api/v1/therapists/me/welcome-message", json={"template": "Hi {client}!"}, headers=care.therapist.headers
    )
    await api.put("/api/v1/therapists/me/away", json=away, headers=care.therapist.headers)  # switched on again
    assert (await api.get("/api/v1/therapists/me/away", headers=care.therapist.headers)).json() == away
    await _send(api, care.client, cid, "Anyone?")
    page = await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.client.headers)
    assert [m["kind"] for m in page.json()["items"]] == ["user", "auto_reply", "user"]


async def test_welcome_template_is_used_for_new_clients(api, care):
    await api.put(
        "/api/v1/therapists/me/welcome-message",
        json={"template": "Hello {client}, I am {therapist}. Office line: 555-0100."},
        headers=care.therapist.headers,
    )
    from tests.support.users import signed_up

    newcomer = await signed_up(api, "client", display_name="Robin Newcomer")
    booked = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": care.therapist.id,
            "start": "2026-12-02T15:00:00Z",
            "duration_minutes": 50,
            "modality": "video",
        },
        headers=newcomer.headers,
    )
    assert booked.status_code == 201
    cid = (await api.get("/api/v1/conversations", headers=newcomer.headers)).json()["items"][0]["id"]
    first = (await api.get(f"/api/v1/conversations/{cid}/messages", headers=newcomer.headers)).json()["items"][0]
    assert first["body"] == "Hello Robin, I am Dr. Dana Reyes. Office line: 555-0100."


async def test_message_posts_honour_the_idempotency_key_beside_the_client_message_id(api, care):
    """API.md: the same `Idempotency-Key` and body returns the same response; the same key with another body is
    `422 idempotency_key_reused`. The client_message_id stays the primary retry key (without any header)."""
    cid = (await conversation_of(api, care))["id"]
    url = f"/api/v1/conversations/{cid}/messages"
    headers = {**care.client.headers, "Idempotency-Key": "send-1"}
    body = {"client_message_id": "k1", "body": "Hello"}
    first = await api.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await api.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    other = await api.post(url, json={"client_message_id": "k2", "body": "Another"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused", other.text
    # Without the header (or with a new key) the client_message_id still recognises the retry.
    retried = await api.post(url, json=body, headers={**care.client.headers, "Idempotency-Key": "send-2"})
    assert retried.status_code == 200 and retried.json() == first.json()
    items = (await api.get(f"{url}?after_seq=1", headers=care.client.headers)).json()["items"]
    assert [m["body"] for m in items] == ["Hello"], "k2 was never stored"
    # A refusal is kept under its key too, and replayed as such.
    reused = {**care.client.headers, "Idempotency-Key": "send-3"}
    refused = await api.post(url, json={"client_message_id": "k1", "body": "Changed"}, headers=reused)
    assert refused.status_code == 422 and refused.json()["code"] == "client_message_id_reused"
    replayed = await api.post(url, json={"client_message_id": "k1", "body": "Changed"}, headers=reused)
    assert replayed.content == refused.content and replayed.headers.get("idempotent-replayed") == "true"


async def test_opening_a_conversation_honours_the_idempotency_key(api, care):
    headers = {**care.therapist.headers, "Idempotency-Key": "open-1"}
    body = {"client_id": care.client.id}
    first = await api.post("/api/v1/conversations", json=body, headers=headers)
    assert first.status_code == 200, first.text  # the booking opened it already
    again = await api.post("/api/v1/conversations", json=body, headers=headers)
    assert again.status_code == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    other = await in_care(api)
    reused = await api.post("/api/v1/conversations", json={"client_id": other.client.id}, headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused", reused.text
