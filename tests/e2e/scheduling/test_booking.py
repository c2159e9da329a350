"""Booking over HTTP: the rules, the database guarantee under real concurrency, idempotency and access."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg
import pytest

from tests.e2e.scheduling.conftest import booking, ny
from tests.support.scheduling import bookable_therapist, publish_hours
from tests.support.users import signed_up


def _at(days: int, hour: int, minute: int = 0) -> str:
    return ny(days, hour, minute)


_book = booking


async def test_book_and_read_back(api, therapist):
    client = await signed_up(api, "client")
    response = await api.post("/api/v1/appointments", json=_book(therapist, _at(3, 10)), headers=client.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "booked" and body["duration_minutes"] == 50
    assert body["start"] == "2026-12-04T15:00:00Z" and body["end"] == "2026-12-04T15:50:00Z"
    assert body["practice_id"] == therapist.practice_id
    got = await api.get(f"/api/v1/appointments/{body['id']}", headers=client.headers)
    assert got.json() == body
    me = (await api.get("/api/v1/me", headers=client.headers)).json()
    assert me["practice_id"] == therapist.practice_id, "booking attaches the client to the practice"


async def test_hundred_concurrent_requests_for_one_slot(api, therapist, database_url):
    clients = [await signed_up(api, "client") for _ in range(10)]
    body = _book(therapist, _at(5, 11))
    responses = await asyncio.gather(
        *[api.post("/api/v1/appointments", json=body, headers=clients[i % 10].headers) for i in range(100)]
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 99
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM appointments") == 1
    finally:
        await conn.close()


async def test_overlapping_intervals_never_coexist(api, therapist, database_url):
    clients = [await signed_up(api, "client") for _ in range(12)]
    # Starts every 5 minutes across two hours with lengths 10..60: many pairs overlap.
    attempts = []
    for i in range(60):
        minutes = [10, 20, 30, 50, 60][i % 5]
        start = _at(6, 9, 0)
        start = (datetime.fromisoformat(start.replace("Z", "+00:00")) + timedelta(minutes=5 * (i % 24))).isoformat()
        attempts.append(
            api.post("/api/v1/appointments", json=_book(therapist, start, minutes), headers=clients[i % 12].headers)
        )
    responses = await asyncio.gather(*attempts)
    assert {r.status_code for r in responses} <= {201, 409}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    assert any(r.status_code == 201 for r in responses)
    conn = await asyncpg.connect(database_url)
    try:
        overlaps = await conn.fetchval(
            """SELECT count(*) FROM appointments a JOIN appointments b
               ON a.id < b.id AND a.therapist_id = b.therapist_id AND a.during && b.during
               WHERE a.status = 'booked' AND b.status = 'booked'"""
        )
        booked = await conn.fetchval("SELECT count(*) FROM appointments")
    finally:
        await conn.close()
    assert overlaps == 0
    assert booked == sum(r.status_code == 201 for r in responses)


async def test_a_client_cannot_be_in_two_sessions_at_once(api, therapist):
    other = await signed_up(api, "therapist")
    await bookable_therapist(api, other)
    client = await signed_up(api, "client")
    first = await api.post("/api/v1/appointments", json=_book(therapist, _at(4, 10)), headers=client.headers)
    assert first.status_code == 201
    clash = await api.post("/api/v1/appointments", json=_book(other, _at(4, 10, 30), 20), headers=client.headers)
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"


@pytest.mark.parametrize(
    "start,minutes,modality,code",
    [
        (_at(3, 7), 50, "video", "outside_office_hours"),
        (_at(3, 16, 30), 50, "video", "outside_office_hours"),
        (_at(3, 10), 45, "video", "duration_not_offered"),
        (_at(3, 10), 50, "chat", "modality_not_offered"),
        ("2026-11-27T15:30:00Z", 20, "video", "too_short_notice"),
        (_at(90, 10), 50, "video", "beyond_booking_horizon"),
    ],
)
async def test_bookings_outside_the_rules(api, start, minutes, modality, code):
    therapist = await signed_up(api, "therapist")
    from tests.support.scheduling import publish_profile

    await publish_profile(api, therapist, modalities=["video", "audio"], session_lengths=[20, 50])
    await publish_hours(api, therapist, min_notice_minutes=120)
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointments", json=_book(therapist, start, minutes, modality), headers=client.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_idempotency_key(api, therapist, database_url):
    client = await signed_up(api, "client")
    key = str(uuid.uuid4())
    headers = {**client.headers, "Idempotency-Key": key}
    body = _book(therapist, _at(7, 13))
    first, second = await asyncio.gather(
        api.post("/api/v1/appointments", json=body, headers=headers),
        api.post("/api/v1/appointments", json=body, headers=headers),
    )
    # A racing retry either replays the answer or is told to retry; it never books twice.
    assert sorted([first.status_code, second.status_code]) in ([201, 201], [201, 409])
    third = await api.post("/api/v1/appointments", json=body, headers=headers)
    assert third.status_code == 201 and third.headers.get("idempotent-replayed") == "true"
    created = first if first.status_code == 201 else second
    assert third.json() == created.json()
    other_body = await api.post("/api/v1/appointments", json=_book(therapist, _at(7, 15)), headers=headers)
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM appointments") == 1
    finally:
        await conn.close()


async def test_idempotent_conflict_is_replayed_too(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    body = _book(therapist, _at(8, 10))
    assert (await api.post("/api/v1/appointments", json=body, headers=alice.headers)).status_code == 201
    headers = {**bob.headers, "Idempotency-Key": "bob-1"}
    assert (await api.post("/api/v1/appointments", json=body, headers=headers)).json()["code"] == "slot_taken"
    again = await api.post("/api/v1/appointments", json=body, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "slot_taken"


async def test_a_replayed_error_is_the_first_answer_byte_for_byte(api, therapist):
    client = await signed_up(api, "client")
    headers = {**client.headers, "Idempotency-Key": "not-offered-1"}
    body = _book(therapist, _at(8, 10), minutes=45)  # not a length the therapist offers
    first = await api.post("/api/v1/appointments", json=body, headers=headers)
    assert first.status_code == 422, first.text
    assert first.json()["errors"][0]["loc"] == ["body", "duration_minutes"]
    assert "idempotent-replayed" not in first.headers
    again = await api.post("/api/v1/appointments", json=body, headers=headers)
    assert again.status_code == 422 and again.headers.get("idempotent-replayed") == "true"
    assert again.content == first.content, "the whole problem, `errors` and the first request's id included"
    assert again.headers["content-type"] == first.headers["content-type"] == "application/problem+json"
    assert again.headers["x-request-id"] != first.headers["x-request-id"], "the replay is a request of its own"


async def test_clients_see_only_their_own_appointments(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    booked = (await api.post("/api/v1/appointments", json=_book(therapist, _at(3, 10)), headers=alice.headers)).json()
    assert (await api.get(f"/api/v1/appointments/{booked['id']}", headers=bob.headers)).status_code == 404
    assert (await api.get("/api/v1/appointments", headers=bob.headers)).json()["items"] == []
    cancel = await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=bob.headers)
    assert cancel.status_code == 404
    move = await api.post(
        f"/api/v1/appointments/{booked['id']}/reschedule", json={"start": _at(3, 12)}, headers=bob.headers
    )
    assert move.status_code == 404


async def test_therapists_see_only_their_practice(api, therapist):
    stranger = await signed_up(api, "therapist")
    client = await signed_up(api, "client")
    booked = (await api.post("/api/v1/appointments", json=_book(therapist, _at(3, 10)), headers=client.headers)).json()
    mine = (await api.get("/api/v1/appointments", headers=therapist.headers)).json()["items"]
    assert [a["id"] for a in mine] == [booked["id"]]
    assert (await api.get("/api/v1/appointments", headers=stranger.headers)).json()["items"] == []
    assert (await api.get(f"/api/v1/appointments/{booked['id']}", headers=stranger.headers)).status_code == 404
    status = await api.post(
        f"/api/v1/appointments/{booked['id']}/status", json={"status": "checked_in"}, headers=stranger.headers
    )
    assert status.status_code == 404


async def test_list_is_cursor_paginated_in_start_order(api, therapist):
    client = await signed_up(api, "client")
    for day in (5, 3, 4):
        response = await api.post("/api/v1/appointments", json=_book(therapist, _at(day, 10)), headers=client.headers)
        assert response.status_code == 201
    page1 = (await api.get("/api/v1/appointments?limit=2", headers=client.headers)).json()
    page2 = (
        await api.get(f"/api/v1/appointments?limit=2&cursor={page1['next_cursor']}", headers=client.headers)
    ).json()
    starts = [a["start"] for a in page1["items"] + page2["items"]]
    assert starts == sorted(starts) and len(starts) == 3 and page2["next_cursor"] is None
    bad = await api.get("/api/v1/appointments?cursor=garbage", headers=client.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


async def test_listing_can_be_narrowed_to_one_therapist(api, therapist):
    other = await signed_up(api, "therapist")
    await bookable_therapist(api, other)
    client = await signed_up(api, "client")
    await api.post("/api/v1/appointments", json=_book(therapist, _at(3, 10)), headers=client.headers)
    await api.post("/api/v1/appointments", json=_book(other, _at(4, 10)), headers=client.headers)
    mine = (await api.get(f"/api/v1/appointments?therapist_id={other.id}", headers=client.headers)).json()["items"]
    assert [a["therapist_id"] for a in mine] == [other.id]


async def test_listing_newest_first_for_one_client_pages_back_through_their_history(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    for day in (5, 3, 4):
        booked = await api.post("/api/v1/appointments", json=_book(therapist, _at(day, 10)), headers=alice.headers)
        assert booked.status_code == 201
    await api.post("/api/v1/appointments", json=_book(therapist, _at(6, 10)), headers=bob.headers)

    query = f"client_id={alice.id}&order=newest_first&limit=2"
    page1 = (await api.get(f"/api/v1/appointments?{query}", headers=therapist.headers)).json()
    page2 = (
        await api.get(f"/api/v1/appointments?{query}&cursor={page1['next_cursor']}", headers=therapist.headers)
    ).json()
    starts = [a["start"] for a in page1["items"] + page2["items"]]
    assert starts == [_at(5, 10), _at(4, 10), _at(3, 10)] and page2["next_cursor"] is None
    assert {a["client_id"] for a in page1["items"] + page2["items"]} == {alice.id}
    # A client's filter never widens their view to someone else's sessions.
    assert (await api.get(f"/api/v1/appointments?client_id={bob.id}", headers=alice.headers)).json()["items"] == []
