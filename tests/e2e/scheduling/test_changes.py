"""Cancelling, late cancelling, rescheduling atomically, and the state machine over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.scheduling.conftest import booking, ny
from tests.support.sessions import attend
from tests.support.users import relogin, signed_up


async def _booked(api, therapist, client, start):
    response = await api.post("/api/v1/appointments", json=booking(therapist, start), headers=client.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_cancel_outside_the_window_is_plain(api, therapist):
    client = await signed_up(api, "client")
    appt = await _booked(api, therapist, client, ny(5, 10))
    response = await api.post(
        f"/api/v1/appointments/{appt['id']}/cancel", json={"reason": "travel"}, headers=client.headers
    )
    body = response.json()
    assert body["status"] == "cancelled" and body["late_cancellation"] is False and body["cancelled_by"] == "client"
    again = await api.post(f"/api/v1/appointments/{appt['id']}/cancel", json={}, headers=client.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"


async def test_client_cancel_inside_the_window_is_late_but_therapist_cancel_is_not(api, therapist, clock):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    a = await _booked(api, therapist, alice, ny(1, 10))
    b = await _booked(api, therapist, bob, ny(1, 12))
    clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 11:00 EST the day before: inside 24 h
    await relogin(api, alice, therapist)
    late = (await api.post(f"/api/v1/appointments/{a['id']}/cancel", json={}, headers=alice.headers)).json()
    assert late["status"] == "late_cancelled" and late["late_cancellation"] is True
    by_therapist = (await api.post(f"/api/v1/appointments/{b['id']}/cancel", json={}, headers=therapist.headers)).json()
    assert by_therapist["status"] == "cancelled" and by_therapist["cancelled_by"] == "therapist"


async def test_cancelled_time_can_be_booked_again(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    appt = await _booked(api, therapist, alice, ny(5, 10))
    await api.post(f"/api/v1/appointments/{appt['id']}/cancel", json={}, headers=alice.headers)
    await _booked(api, therapist, bob, ny(5, 10))


async def test_reschedule_moves_atomically(api, therapist):
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    mine = await _booked(api, therapist, alice, ny(5, 10))
    theirs = await _booked(api, therapist, bob, ny(5, 14))
    clash = await api.post(
        f"/api/v1/appointments/{mine['id']}/reschedule", json={"start": ny(5, 14, 30)}, headers=alice.headers
    )
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"
    still = (await api.get(f"/api/v1/appointments/{mine['id']}", headers=alice.headers)).json()
    assert still["start"] == mine["start"], "the old time is kept when the new one is taken"
    moved = await api.post(
        f"/api/v1/appointments/{mine['id']}/reschedule", json={"start": ny(5, 12)}, headers=alice.headers
    )
    assert moved.status_code == 200 and moved.json()["start"] == ny(5, 12)
    # The freed 10:00 can be taken by someone else now.
    await _booked(api, therapist, bob, ny(5, 10))
    assert theirs["status"] == "booked"


async def test_reschedule_may_overlap_its_own_old_time(api, therapist):
    client = await signed_up(api, "client")
    appt = await _booked(api, therapist, client, ny(5, 10))
    moved = await api.post(
        f"/api/v1/appointments/{appt['id']}/reschedule", json={"start": ny(5, 10, 30)}, headers=client.headers
    )
    assert moved.status_code == 200, moved.text


async def test_state_machine_over_http(api, therapist, clock):
    client = await signed_up(api, "client")
    appt = await _booked(api, therapist, client, ny(1, 10))
    url = f"/api/v1/appointments/{appt['id']}/status"
    early = await api.post(url, json={"status": "no_show"}, headers=therapist.headers)
    assert early.status_code == 409 and early.json()["code"] == "session_not_started"
    skip = await api.post(url, json={"status": "in_progress"}, headers=therapist.headers)
    assert skip.status_code == 409 and skip.json()["code"] == "invalid_state"
    # Check-in and start follow the clock: the session opens 10 minutes before its start (14:50 UTC).
    for moment in (datetime(2026, 11, 27, 15, 0, tzinfo=UTC), datetime(2026, 12, 2, 14, 49, tzinfo=UTC)):
        clock.set(moment)
        await relogin(api, therapist, client)
        ahead = await api.post(url, json={"status": "checked_in"}, headers=therapist.headers)
        assert ahead.status_code == 422 and ahead.json()["code"] == "outside_join_window", ahead.text
    clock.set(datetime(2026, 12, 2, 14, 50, tzinfo=UTC))
    await relogin(api, therapist, client)
    assert (await api.post(url, json={"status": "checked_in"}, headers=therapist.headers)).json()[
        "status"
    ] == "checked_in"
    # A start needs both in the session (the call starts it by itself when they join).
    alone = await api.post(url, json={"status": "in_progress"}, headers=therapist.headers)
    assert alone.status_code == 409 and alone.json()["code"] == "session_not_held", alone.text
    await attend(api, appt["id"], therapist, client)
    assert (await api.get(f"/api/v1/appointments/{appt['id']}", headers=client.headers)).json()[
        "status"
    ] == "in_progress"
    clock.set(datetime(2026, 12, 2, 15, 1, tzinfo=UTC))
    await relogin(api, therapist, client)
    assert (await api.post(url, json={"status": "completed"}, headers=therapist.headers)).json()[
        "status"
    ] == "completed"
    back = await api.post(f"/api/v1/appointments/{appt['id']}/cancel", json={}, headers=client.headers)
    assert back.status_code == 409 and back.json()["code"] == "invalid_state"
    by_client = await api.post(url, json={"status": "no_show"}, headers=client.headers)
    assert by_client.status_code == 403
