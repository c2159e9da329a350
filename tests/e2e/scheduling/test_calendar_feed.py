"""The iCalendar feed: a secret, revocable address; stable UIDs, bumped SEQUENCE, cancelled events kept."""

from __future__ import annotations

from icalendar import Calendar

from tests.e2e.scheduling.conftest import booking
from tests.support.users import signed_up


async def _feed(api, user) -> str:
    response = await api.post("/api/v1/calendar-feeds", headers=user.headers)
    assert response.status_code == 201
    return response.json()["url"].split("/api/v1/", 1)[1]


def _events(text: bytes) -> dict[str, dict]:
    cal = Calendar.from_ical(text)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


async def test_feed_lists_sessions_without_names_and_tracks_changes(api, therapist):
    client = await signed_up(api, "client", display_name="Robin Private-Surname")
    path = await _feed(api, therapist)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers)
    ).json()
    first = await api.get(f"/api/v1/{path}")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    assert b"Robin" not in first.content and b"Surname" not in first.content
    event = _events(first.content)[f"{booked['id']}@hearth"]
    assert str(event["summary"]) == "Hearth session (50 min, video)"
    assert event.decoded("dtstart").isoformat() == "2026-12-10T15:00:00+00:00"
    sequence = int(event["sequence"])

    await api.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": "2026-12-11T15:00:00Z"},
        headers=client.headers,
    )
    moved = _events((await api.get(f"/api/v1/{path}")).content)[f"{booked['id']}@hearth"]
    assert int(moved["sequence"]) > sequence and moved.decoded("dtstart").isoformat() == "2026-12-11T15:00:00+00:00"

    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=client.headers)
    cancelled = _events((await api.get(f"/api/v1/{path}")).content)[f"{booked['id']}@hearth"]
    assert str(cancelled["status"]) == "CANCELLED" and int(cancelled["sequence"]) > int(moved["sequence"])


async def test_feed_addresses_are_secret_and_revocable(api, therapist):
    client = await signed_up(api, "client")
    old = await _feed(api, client)
    new = await _feed(api, client)
    assert (await api.get(f"/api/v1/{old}")).status_code == 404, "a new address replaces the old one"
    assert (await api.get(f"/api/v1/{new}")).status_code == 200
    assert (await api.delete("/api/v1/calendar-feeds", headers=client.headers)).status_code == 204
    assert (await api.get(f"/api/v1/{new}")).status_code == 404
    assert (await api.get("/api/v1/calendar/" + "x" * 43 + ".ics")).status_code == 404


async def test_a_clients_feed_has_only_their_sessions(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    mine = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=alice.headers)
    ).json()
    await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T17:00:00Z"), headers=bob.headers)
    path = await _feed(api, alice)
    assert set(_events((await api.get(f"/api/v1/{path}")).content)) == {f"{mine['id']}@hearth"}
