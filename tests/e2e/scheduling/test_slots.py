"""Slot search over HTTP, including both DST transitions in New York and London."""

from __future__ import annotations

from datetime import UTC, datetime

from api.schemas.scheduling import Slots
from tests.e2e.scheduling.conftest import booking
from tests.support.scheduling import publish_hours, publish_profile
from tests.support.users import relogin, signed_up


async def _slots(api, therapist, user, start, end, minutes=50, modality="video"):
    response = await api.get(
        f"/api/v1/therapists/{therapist.id}/slots",
        params={"start": start, "end": end, "duration_minutes": minutes, "modality": modality, "step_minutes": 60},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # The route serialises plain dicts for speed: they must be exactly what the documented model would give.
    assert Slots.model_validate(body).model_dump(mode="json") == body
    return body


async def _nine_to_eleven(api, zone: str):
    therapist = await signed_up(api, "therapist", timezone=zone)
    await publish_profile(api, therapist, timezone=zone)
    await publish_hours(
        api,
        therapist,
        timezone=zone,
        weekly=[{"weekday": d, "start": "09:00", "end": "11:00"} for d in range(1, 8)],
        horizon_days=366,
    )
    return therapist


async def test_new_york_both_transitions(api, clock):
    therapist = await _nine_to_eleven(api, "America/New_York")
    client = await signed_up(api, "client")
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    await relogin(api, client)
    spring = await _slots(api, therapist, client, "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z")
    assert spring["timezone"] == "America/New_York"
    assert [s["start"] for s in spring["slots"]] == [
        "2026-03-07T14:00:00Z",
        "2026-03-07T15:00:00Z",  # Saturday, EST
        "2026-03-08T13:00:00Z",
        "2026-03-08T14:00:00Z",  # Sunday, EDT from 02:00
        "2026-03-09T13:00:00Z",
        "2026-03-09T14:00:00Z",
    ]
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    await relogin(api, client)
    fall = await _slots(api, therapist, client, "2026-10-31T00:00:00Z", "2026-11-02T00:00:00Z")
    assert [s["start"] for s in fall["slots"]] == [
        "2026-10-31T13:00:00Z",
        "2026-10-31T14:00:00Z",  # EDT
        "2026-11-01T14:00:00Z",
        "2026-11-01T15:00:00Z",  # EST from 02:00
    ]


async def test_london_both_transitions(api, clock):
    therapist = await _nine_to_eleven(api, "Europe/London")
    client = await signed_up(api, "client")
    clock.set(datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
    await relogin(api, client)
    spring = await _slots(api, therapist, client, "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z")
    assert [s["start"] for s in spring["slots"]] == [
        "2026-03-28T09:00:00Z",
        "2026-03-28T10:00:00Z",
        "2026-03-29T08:00:00Z",
        "2026-03-29T09:00:00Z",
    ]
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    await relogin(api, client)
    fall = await _slots(api, therapist, client, "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z")
    assert [s["start"] for s in fall["slots"]] == [
        "2026-10-24T08:00:00Z",
        "2026-10-24T09:00:00Z",
        "2026-10-25T09:00:00Z",
        "2026-10-25T10:00:00Z",
    ]


async def test_booked_time_and_buffers_disappear_from_slots(api, therapist):
    await publish_hours(api, therapist, buffer_minutes=10, weekly=[{"weekday": 4, "start": "09:00", "end": "12:00"}])
    client = await signed_up(api, "client")
    window = ("2026-12-10T00:00:00Z", "2026-12-11T00:00:00Z")
    before = [s["start"] for s in (await _slots(api, therapist, client, *window))["slots"]]
    assert before == ["2026-12-10T14:00:00Z", "2026-12-10T15:00:00Z", "2026-12-10T16:00:00Z"]
    await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers)
    after = [s["start"] for s in (await _slots(api, therapist, client, *window))["slots"]]
    # 14:00-14:50 ends 10 minutes before 15:00: allowed. 16:00 starts 10 minutes after 15:50: allowed.
    assert after == ["2026-12-10T14:00:00Z", "2026-12-10T16:00:00Z"]
    tight = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T16:55:00Z", 10), headers=client.headers
    )
    assert tight.status_code in (409, 422)


async def test_slot_search_rejects_bad_windows_and_unknown_therapists(api, therapist):
    client = await signed_up(api, "client")
    reversed_window = await api.get(
        f"/api/v1/therapists/{therapist.id}/slots",
        params={"start": "2026-12-10T00:00:00Z", "end": "2026-12-01T00:00:00Z", "duration_minutes": 50},
        headers=client.headers,
    )
    assert reversed_window.status_code == 422 and reversed_window.json()["code"] == "invalid_window"
    naive = await api.get(
        f"/api/v1/therapists/{therapist.id}/slots",
        params={"start": "2026-12-10T00:00:00", "end": "2026-12-11T00:00:00Z", "duration_minutes": 50},
        headers=client.headers,
    )
    assert naive.status_code == 422
    for start, end in (
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
        ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
    ):
        # Valid RFC 3339, but a day's arithmetic around them overflows: refused as input, never a 500.
        edge = await api.get(
            f"/api/v1/therapists/{therapist.id}/slots",
            params={"start": start, "end": end, "duration_minutes": 50},
            headers=client.headers,
        )
        assert edge.status_code == 422 and edge.json()["code"] == "validation_failed", edge.text
        booked = await api.post("/api/v1/appointments", json=booking(therapist, start), headers=client.headers)
        assert booked.status_code == 422, booked.text
    unknown = await api.get(
        f"/api/v1/therapists/{client.id}/slots",
        params={"start": "2026-12-10T00:00:00Z", "end": "2026-12-11T00:00:00Z", "duration_minutes": 50},
        headers=client.headers,
    )
    assert unknown.status_code == 404


async def test_profile_etag_and_public_view(api, therapist):
    current = await api.get("/api/v1/therapists/me/profile", headers=therapist.headers)
    etag = current.headers["etag"]
    stale = await api.put(
        "/api/v1/therapists/me/profile",
        json={**{k: v for k, v in current.json().items() if k not in ("therapist_id", "version")}},
        headers={**therapist.headers, "If-Match": '"v0"'},
    )
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    missing = await api.put(
        "/api/v1/therapists/me/profile",
        json={k: v for k, v in current.json().items() if k not in ("therapist_id", "version")},
        headers=therapist.headers,
    )
    assert missing.status_code == 428
    ok = await api.put(
        "/api/v1/therapists/me/profile",
        json={k: v for k, v in current.json().items() if k not in ("therapist_id", "version")} | {"bio": "New bio"},
        headers={**therapist.headers, "If-Match": etag},
    )
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    client = await signed_up(api, "client")
    public = (await api.get(f"/api/v1/therapists/{therapist.id}", headers=client.headers)).json()
    assert public["bio"] == "New bio"
    assert "caseload_capacity" not in public and "version" not in public
    assert public["cancellation_window_hours"] == 24, "clients see when a cancellation becomes late"
    assert (await api.get("/api/v1/therapists/me/profile", headers=client.headers)).status_code == 403
    directory = (await api.get("/api/v1/therapists", headers=client.headers)).json()["items"]
    assert therapist.id in [t["therapist_id"] for t in directory]


async def test_a_specialty_of_the_longest_allowed_length_is_stored(api, therapist):
    longest = ("Cognitive behavioural therapy for insomnia, panic and health anxiety in adults; " * 2)[:100]
    assert len(longest) == 100 and longest[-1] != " "
    await publish_profile(api, therapist, specialties=[longest])
    stored = await api.get("/api/v1/therapists/me/profile", headers=therapist.headers)
    assert stored.json()["specialties"] == [longest], "stored whole, not cut at the column's width"
