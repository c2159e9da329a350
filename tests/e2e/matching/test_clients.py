"""The therapist's client list: everyone in active care, matched clients without a booking included."""

from __future__ import annotations

from tests.e2e.matching.conftest import choose, submitted, suggestions, therapist
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
