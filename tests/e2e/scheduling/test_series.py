"""Recurring series over HTTP: per-occurrence results, local time across DST, "this" and "this and following"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from tests.e2e.scheduling.conftest import booking
from tests.support.scheduling import bookable_therapist
from tests.support.users import relogin, signed_up


def _series(therapist, start: str, **extra) -> dict:
    return {
        "therapist_id": therapist.id,
        "start": start,
        "duration_minutes": 50,
        "modality": "video",
        "frequency": "weekly",
        **extra,
    }


async def test_weekly_series_keeps_local_time_across_the_fall_back(api, clock, therapist):
    client = await signed_up(api, "client")
    clock.set(datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    await relogin(api, client)
    # 10:00 EDT on Mondays from 19 Oct 2026; New York falls back on 1 Nov.
    response = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-10-19T14:00:00Z", count=4), headers=client.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    starts = [o["start"] for o in body["occurrences"]]
    assert starts == ["2026-10-19T14:00:00Z", "2026-10-26T14:00:00Z", "2026-11-02T15:00:00Z", "2026-11-09T15:00:00Z"]
    assert {o["status"] for o in body["occurrences"]} == {"booked"}
    assert body["timezone"] == "America/New_York"


async def test_fortnightly_series_in_london_across_spring_forward(api, clock):
    therapist = await signed_up(api, "therapist", timezone="Europe/London")
    from tests.support.scheduling import publish_hours, publish_profile

    await publish_profile(api, therapist, timezone="Europe/London")
    await publish_hours(api, therapist, timezone="Europe/London", horizon_days=120)
    client = await signed_up(api, "client")
    clock.set(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    await relogin(api, client, therapist)
    # 09:00 GMT on 15 March 2027; the UK springs forward on 28 March: then 09:00 BST = 08:00 UTC.
    response = await api.post(
        "/api/v1/appointment-series",
        json=_series(therapist, "2027-03-15T09:00:00Z", frequency="fortnightly", until="2027-04-12"),
        headers=client.headers,
    )
    assert [o["start"] for o in response.json()["occurrences"]] == [
        "2027-03-15T09:00:00Z",
        "2027-03-29T08:00:00Z",
        "2027-04-12T08:00:00Z",
    ]


async def test_each_occurrence_reports_its_own_conflict(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    taken = await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-14T15:00:00Z"), headers=bob.headers)
    assert taken.status_code == 201
    response = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-12-07T15:00:00Z", count=3), headers=alice.headers
    )
    results = [(o["status"], o["problem_code"]) for o in response.json()["occurrences"]]
    assert results == [("booked", None), ("conflict", "slot_taken"), ("booked", None)]


async def test_a_series_with_nothing_bookable_is_refused_whole(api, therapist, database_url):
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-12-07T03:00:00Z", count=2), headers=client.headers
    )
    assert response.status_code == 422 and response.json()["code"] == "outside_office_hours"
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM appointment_series") == 0
    finally:
        await conn.close()


async def test_series_bounds_are_validated(api, therapist):
    client = await signed_up(api, "client")
    too_long = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-12-07T15:00:00Z", count=53), headers=client.headers
    )
    assert too_long.status_code == 422
    neither = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-12-07T15:00:00Z"), headers=client.headers
    )
    assert neither.status_code == 422 and neither.json()["code"] == "invalid_recurrence"


async def _booked_series(api, therapist, client, start: str, count: int) -> dict:
    response = await api.post(
        "/api/v1/appointment-series", json=_series(therapist, start, count=count), headers=client.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _occurrences(api, client) -> list[dict]:
    items = (await api.get("/api/v1/appointments?limit=100", headers=client.headers)).json()["items"]
    return sorted(items, key=lambda a: a["start"])


async def test_edit_this_occurrence_moves_only_it(api, therapist):
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 3)
    second = series["occurrences"][1]["appointment"]
    moved = await api.post(
        f"/api/v1/appointments/{second['id']}/reschedule",
        json={"start": "2026-12-15T17:00:00Z", "scope": "this"},
        headers=client.headers,
    )
    assert moved.status_code == 200 and moved.json()["series_id"] == series["id"]
    active = [a["start"] for a in await _occurrences(api, client) if a["status"] == "booked"]
    assert active == ["2026-12-07T15:00:00Z", "2026-12-15T17:00:00Z", "2026-12-21T15:00:00Z"]


async def test_edit_this_and_following_splits_the_series(api, therapist):
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 4)
    third = series["occurrences"][2]["appointment"]
    moved = await api.post(
        f"/api/v1/appointments/{third['id']}/reschedule",
        json={"start": "2026-12-22T19:00:00Z", "scope": "this_and_following"},
        headers=client.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["series_id"] != series["id"]
    everything = await _occurrences(api, client)
    booked = [a["start"] for a in everything if a["status"] == "booked"]
    assert booked == ["2026-12-07T15:00:00Z", "2026-12-14T15:00:00Z", "2026-12-22T19:00:00Z", "2026-12-29T19:00:00Z"]
    cancelled = [a for a in everything if a["status"] == "cancelled"]
    assert len(cancelled) == 2 and all(a["late_cancellation"] is False for a in cancelled)


async def test_a_refused_move_of_this_and_following_changes_nothing(api, therapist, database_url):
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 4)
    before = await _occurrences(api, client)
    third = series["occurrences"][2]["appointment"]
    refused = await api.post(
        f"/api/v1/appointments/{third['id']}/reschedule",
        json={"start": "2026-12-22T08:00:00Z", "scope": "this_and_following"},  # 03:00 in New York
        headers=client.headers,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "outside_office_hours", refused.text
    assert await _occurrences(api, client) == before, "nothing cancelled, nothing booked"
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM appointment_series") == 1, "no new series left behind"
    finally:
        await conn.close()


async def test_cancel_this_and_following(api, therapist):
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 4)
    second = series["occurrences"][1]["appointment"]
    response = await api.post(
        f"/api/v1/appointments/{second['id']}/cancel", json={"scope": "this_and_following"}, headers=client.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    booked = [a["start"] for a in await _occurrences(api, client) if a["status"] == "booked"]
    assert booked == ["2026-12-07T15:00:00Z"]


async def test_cancelling_this_and_following_late_is_a_late_cancellation_of_this_one(api, clock, therapist):
    # As a plain cancel would be: inside the window (24 h) it is late (billed), with the client's reason.
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 3)
    first = series["occurrences"][0]["appointment"]
    clock.set(datetime(2026, 12, 7, 12, 0, tzinfo=UTC))  # three hours before the first occurrence
    await relogin(api, client)
    response = await api.post(
        f"/api/v1/appointments/{first['id']}/cancel",
        json={"scope": "this_and_following", "reason": "Moving away"},
        headers=client.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["late_cancellation"]) == ("late_cancelled", True)
    everything = await _occurrences(api, client)
    assert [(a["status"], a["cancel_reason"]) for a in everything] == [
        ("late_cancelled", "Moving away"),
        ("cancelled", "Moving away"),
        ("cancelled", "Moving away"),
    ]


async def test_cancelling_one_occurrence_leaves_the_others(api, therapist):
    client = await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 3)
    middle = series["occurrences"][1]["appointment"]
    await api.post(f"/api/v1/appointments/{middle['id']}/cancel", json={}, headers=client.headers)
    statuses = [a["status"] for a in await _occurrences(api, client)]
    assert statuses == ["booked", "cancelled", "booked"]


async def test_a_stranger_cannot_touch_a_series(api, therapist):
    client, stranger = await signed_up(api, "client"), await signed_up(api, "client")
    series = await _booked_series(api, therapist, client, "2026-12-07T15:00:00Z", 2)
    first = series["occurrences"][0]["appointment"]
    response = await api.post(
        f"/api/v1/appointments/{first['id']}/cancel", json={"scope": "this_and_following"}, headers=stranger.headers
    )
    assert response.status_code == 404


async def test_other_therapists_series_is_not_bookable_into_a_busy_client(api, therapist):
    other = await signed_up(api, "therapist")
    await bookable_therapist(api, other)
    client = await signed_up(api, "client")
    await api.post(
        "/api/v1/appointment-series", json=_series(therapist, "2026-12-07T15:00:00Z", count=2), headers=client.headers
    )
    clash = await api.post(
        "/api/v1/appointment-series", json=_series(other, "2026-12-07T15:30:00Z", count=2), headers=client.headers
    )
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"


async def test_a_therapist_books_a_series_only_for_a_client_in_their_care(api, therapist):
    stranger = await signed_up(api, "client")  # a user, but never booked with this therapist
    for client_id in (stranger.id, str(uuid.uuid4())):
        refused = await api.post(
            "/api/v1/appointment-series",
            json=_series(therapist, "2026-12-07T15:00:00Z", count=2, client_id=client_id),
            headers=therapist.headers,
        )
        assert refused.status_code == 404 and refused.json()["code"] == "not_found", refused.text

    client = await signed_up(api, "client")
    first = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-01T15:00:00Z"), headers=client.headers
    )
    assert first.status_code == 201, first.text
    booked = await api.post(
        "/api/v1/appointment-series",
        json=_series(therapist, "2026-12-07T15:00:00Z", count=2, client_id=client.id),
        headers=therapist.headers,
    )
    assert booked.status_code == 201, booked.text
    assert [o["status"] for o in booked.json()["occurrences"]] == ["booked", "booked"]


async def test_a_retried_series_with_the_same_idempotency_key_books_once(api, therapist, database_url):
    client = await signed_up(api, "client")
    headers = {**client.headers, "Idempotency-Key": str(uuid.uuid4())}
    body = _series(therapist, "2026-12-07T15:00:00Z", count=3)
    first = await api.post("/api/v1/appointment-series", json=body, headers=headers)
    assert first.status_code == 201, first.text
    # The answer was lost on its way: the same request again is the same series, not a failure.
    again = await api.post("/api/v1/appointment-series", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    reused = await api.post(
        "/api/v1/appointment-series", json={**body, "start": "2026-12-08T15:00:00Z"}, headers=headers
    )
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    conn = await asyncpg.connect(database_url)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM appointment_series WHERE client_id = $1", uuid.UUID(client.id))
            == 1
        )
        assert await conn.fetchval("SELECT count(*) FROM appointments WHERE client_id = $1", uuid.UUID(client.id)) == 3
    finally:
        await conn.close()
