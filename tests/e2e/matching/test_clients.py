"""The therapist's client list: everyone in active care, matched clients without a booking included."""

from __future__ import annotations

import uuid

from tests.e2e.matching.conftest import choose, fresh_login, into_practice, submitted, suggestions, therapist
from tests.support.users import relogin, signed_up


async def test_matched_clients_without_a_booking_are_listed_paged_with_their_next_session(api, clock):
    ada = await therapist(api, "Dr. Ada Best", specialties=["anxiety", "grief"])
    other = await therapist(api, "Dr. Ben Other", specialties=["sleep"])
    robin = await signed_up(api, "client", display_name="Robin Client")
    sam = await signed_up(api, "client", display_name="Sam Client")
    for client in (robin, sam):
        await submitted(api, client)
        await choose(api, client, await suggestions(api, client), ada.id)
        clock.advance(minutes=1)
    await relogin(api, ada, robin, sam, other)

    first = await api.get("/api/v1/clients", params={"limit": 1}, headers=ada.headers)
    assert first.status_code == 200, first.text
    assert [c["display_name"] for c in first.json()["items"]] == ["Sam Client"], "newest care first"
    assert first.json()["items"][0]["next_appointment"] is None, "matched, nothing booked yet"
    second = await api.get(
        "/api/v1/clients", params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=ada.headers
    )
    assert [c["client_id"] for c in second.json()["items"]] == [robin.id]
    assert second.json()["next_cursor"] is None

    booked = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": ada.id,
            "client_id": robin.id,
            "start": "2026-12-01T15:00:00Z",
            "duration_minutes": 50,
            "modality": "video",
        },
        headers=ada.headers,
    )
    assert booked.status_code == 201, booked.text
    listed = {c["client_id"]: c for c in (await api.get("/api/v1/clients", headers=ada.headers)).json()["items"]}
    assert listed[robin.id]["next_appointment"]["id"] == booked.json()["id"]
    assert listed[sam.id]["next_appointment"] is None

    assert (await api.get("/api/v1/clients", headers=other.headers)).json()["items"] == []
    assert (await api.get("/api/v1/clients", headers=robin.headers)).status_code == 403
    assert (await api.get("/api/v1/clients")).status_code == 401


async def test_names_only_of_my_clients_past_present_or_waiting(api, database_url, clock):
    ada = await therapist(api, "Dr. Ada Best", specialties=["anxiety", "grief"])
    other = await therapist(api, "Dr. Ben Other", specialties=["anxiety"])
    robin = await signed_up(api, "client", display_name="Robin Client")
    sam = await signed_up(api, "client", display_name="Sam Client")
    zoe = await signed_up(api, "client", display_name="Zoe Elsewhere")
    wes = await signed_up(api, "client", display_name="Wes Waiting")
    stranger = await signed_up(api, "client", display_name="Una Known")
    for client, chosen in ((robin, ada), (sam, ada), (zoe, other)):
        await submitted(api, client)
        await choose(api, client, await suggestions(api, client), chosen.id)
        clock.advance(minutes=1)
    await choose(api, sam, await suggestions(api, sam), other.id)  # Sam moves on: still Ada's past client
    joined = await api.post(f"/api/v1/therapists/{ada.id}/waitlist", json={"durations": [50]}, headers=wes.headers)
    assert joined.status_code == 201, joined.text
    await relogin(api, ada, robin, sam, zoe, other)
    everyone = [robin.id, sam.id, zoe.id, wes.id, stranger.id, ada.id, str(uuid.uuid4())]

    named = await api.get("/api/v1/clients/names", params={"id": everyone}, headers=ada.headers)
    assert named.status_code == 200, named.text
    assert {c["client_id"]: c["display_name"] for c in named.json()["items"]} == {
        robin.id: "Robin Client",
        sam.id: "Sam Client",
        wes.id: "Wes Waiting",
    }, "in care, once in care, waiting; never another therapist's client, a stranger, staff or an unknown id"
    theirs = await api.get("/api/v1/clients/names", params={"id": everyone}, headers=other.headers)
    assert {c["display_name"] for c in theirs.json()["items"]} == {"Sam Client", "Zoe Elsewhere"}

    left = await api.delete(f"/api/v1/waitlist/{joined.json()['id']}", headers=wes.headers)
    assert left.status_code == 204
    named = await api.get("/api/v1/clients/names", params={"id": [wes.id]}, headers=ada.headers)
    assert named.json()["items"] == [], "off the waitlist, never in care: no name"

    practice_id = (await api.get("/api/v1/me", headers=ada.headers)).json()["practice_id"]
    boss = await signed_up(api, "therapist", display_name="Pat Admin")
    await into_practice(database_url, practice_id, boss, role="practice_admin")
    boss = await fresh_login(api, boss, role="practice_admin")
    for caller in (boss, robin):
        refused = await api.get("/api/v1/clients/names", params={"id": [robin.id]}, headers=caller.headers)
        assert refused.status_code == 403, "admins and clients get no names, as before"
    assert (await api.get("/api/v1/clients/names", params={"id": [robin.id]})).status_code == 401
    assert (await api.get("/api/v1/clients/names", headers=ada.headers)).status_code == 422
    too_many = [str(uuid.uuid4()) for _ in range(101)]
    assert (await api.get("/api/v1/clients/names", params={"id": too_many}, headers=ada.headers)).status_code == 422
