"""Who may see and join a session, its time window, the safety check-in and the waiting room."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import timedelta

import asyncpg

from tests.e2e.sessions.conftest import START, at
from tests.support.scheduling import bookable_therapist
from tests.support.sessions import CHECK_IN, connect, recv, send, update_until
from tests.support.users import signed_up


async def test_outsiders_cannot_see_join_signal_or_fetch_ice(api, app, care, clock):
    other_client = await signed_up(api, "client")
    other_therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, other_therapist)
    await at(api, clock, START - timedelta(minutes=5), care.therapist, care.client, other_client, other_therapist)
    aid = care.appointment["id"]
    for outsider in (other_client, other_therapist):
        for path in (f"/api/v1/appointments/{aid}/session", f"/api/v1/appointments/{aid}/ice-servers"):
            response = await api.get(path, headers=outsider.headers)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["code"] == "not_found"
    refused = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=other_client.headers)
    assert refused.status_code == 404
    socket = await connect(api, app[1], other_therapist)
    try:
        await send(socket, type="session_join", appointment_id=aid)
        error = await recv(socket, "error")
        assert (error["code"], error["ref"]) == ("not_found", aid)
        await send(socket, type="call_offer", appointment_id=aid, sdp="v=0 secret")
        assert (await recv(socket, "error"))["code"] == "not_found"
        await send(
            socket, type="ice_candidate", appointment_id=aid, candidate="candidate:1 1 udp 1 10.0.0.1 9 typ host"
        )
        assert (await recv(socket, "error"))["code"] == "not_found"
    finally:
        await socket.close()
    # The participants do see it.
    mine = await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)
    assert mine.status_code == 200 and mine.json()["you"] == "therapist" and mine.json()["polite"] is False


async def test_join_window_is_enforced_with_a_clear_code(api, app, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=11), care.therapist, care.client)
    early = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert early.status_code == 422 and early.json()["code"] == "outside_join_window"
    socket = await connect(api, app[1], care.therapist)
    try:
        await send(socket, type="session_join", appointment_id=aid)
        assert (await recv(socket, "error"))["code"] == "outside_join_window"
    finally:
        await socket.close()
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()
    assert session["window"]["opens_at"] == "2026-12-01T14:50:00Z"
    assert session["window"]["closes_at"] == "2026-12-01T16:05:00Z"  # 50 minutes + 15

    await at(api, clock, START + timedelta(minutes=50 + 16), care.therapist, care.client)
    late = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert late.status_code == 422 and late.json()["code"] == "outside_join_window"


async def test_check_in_is_encrypted_moves_the_appointment_and_warns_an_unlicensed_therapist(
    api, app, care, clock, database_url
):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=8), care.therapist, care.client)
    by_therapist = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.therapist.headers)
    assert by_therapist.status_code == 403
    bad = await api.post(
        f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, "region": None}, headers=care.client.headers
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_check_in"

    in_california = {**CHECK_IN, "region": "CA", "emergency_contact": {"name": "Quincy Zebra", "phone": "+14155550199"}}
    done = await api.post(f"/api/v1/appointments/{aid}/check-in", json=in_california, headers=care.client.headers)
    assert done.status_code == 200, done.text
    assert done.json()["checked_in"] and done.json()["waiting"] and not done.json()["admitted"]
    assert done.json()["licence_warning"] is None, "the client is not told about the therapist's licences"
    appointment = (await api.get(f"/api/v1/appointments/{aid}", headers=care.client.headers)).json()
    assert appointment["status"] == "checked_in"

    seen = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert "US-CA" in seen["licence_warning"]
    assert seen["check_in"]["emergency_contact"]["name"] == "Quincy Zebra"
    assert seen["check_in"]["region"] == "CA"

    connection = await asyncpg.connect(database_url)
    try:
        raw = await connection.fetchval(
            "SELECT check_in FROM live_sessions WHERE appointment_id = $1", care.appointment["id"]
        )
    finally:
        await connection.close()
    assert raw and b"Quincy" not in raw and b"+14155550199" not in raw and b"CA" not in raw

    in_new_york = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert in_new_york.status_code == 200
    seen = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert seen["licence_warning"] is None


async def test_not_alone_turns_the_session_into_chat(api, app, care, clock, database_url):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=2), care.therapist, care.client)
    done = await api.post(
        f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, "private": False}, headers=care.client.headers
    )
    assert done.status_code == 200
    body = done.json()
    assert (body["booked_modality"], body["modality"]) == ("video", "chat")
    change = [e for e in body["events"] if e["kind"] == "modality_changed"]
    assert [(e["modality"], e["detail"]) for e in change] == [("chat", None)]
    assert body["check_in"]["private"] is False  # why it became chat: from the sealed check-in, to its two parties
    connection = await asyncpg.connect(database_url)
    try:
        details = await connection.fetch("SELECT detail FROM session_events WHERE appointment_id = $1", uuid.UUID(aid))
    finally:
        await connection.close()
    assert all(r["detail"] is None or "alone" not in r["detail"] for r in details)


async def test_waiting_room_admit_and_early_arrival(api, app, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=9), care.therapist, care.client)
    client_ws = await connect(api, app[1], care.client)
    try:
        await send(client_ws, type="session_join", appointment_id=aid)
        assert (await recv(client_ws, "error"))["code"] == "check_in_required"
        await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
        # Auto-admit does not let an early arrival in before the start.
        auto = await api.put(
            f"/api/v1/appointments/{aid}/session/auto-admit", json={"enabled": True}, headers=care.therapist.headers
        )
        assert auto.status_code == 200 and auto.json()["auto_admit"] is True
        await send(client_ws, type="session_join", appointment_id=aid)
        assert (await recv(client_ws, "error"))["code"] == "waiting_for_admission"
        assert (
            await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.client.headers)
        ).status_code == 403
        admitted = await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)
        assert admitted.status_code == 200 and admitted.json()["admitted"] is True
        # Updates of the check-in and the auto-admit setting may come first.
        update = await update_until(client_ws, aid, lambda s: s["admitted"])
        assert update["session"]["waiting"] is False
        await send(client_ws, type="session_join", appointment_id=aid)
        joined = await recv(client_ws, "session_joined")
        assert joined["polite"] is True and care.client.id in joined["session"]["connected"]
    finally:
        await client_ws.close()


async def test_auto_admit_lets_the_client_in_from_the_start(api, app, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=5), care.therapist, care.client)
    await api.put(
        f"/api/v1/appointments/{aid}/session/auto-admit", json={"enabled": True}, headers=care.therapist.headers
    )
    await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()["waiting"]
    await at(api, clock, START + timedelta(seconds=30), care.therapist, care.client)
    socket = await connect(api, app[1], care.client)
    try:
        await send(socket, type="session_join", appointment_id=aid)
        assert (await recv(socket, "session_joined"))["session"]["admitted"] is True
    finally:
        await socket.close()


async def test_ice_servers_give_coturn_rest_credentials(api, app, care, clock):
    container = app[0].state.container
    from domain.sessions.ice import IceConfig

    container.sessions._ice = IceConfig(
        stun_urls=("stun:stun.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478?transport=udp",),
        turn_secret="north-wind",
        turn_ttl=timedelta(hours=2),
    )
    await at(api, clock, START - timedelta(minutes=5), care.therapist, care.client)
    got = await api.get(f"/api/v1/appointments/{care.appointment['id']}/ice-servers", headers=care.client.headers)
    assert got.status_code == 200
    stun, turn = got.json()["ice_servers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"], "username": None, "credential": None}
    expiry = int((START + timedelta(minutes=-5, hours=2)).timestamp())
    assert turn["username"] == f"{expiry}:{care.client.id}"
    expected = base64.b64encode(hmac.new(b"north-wind", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected


async def test_the_last_emergency_contact_is_offered_for_confirmation(api, app, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=5), care.therapist, care.client)
    first = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()
    assert first["known_emergency_contact"] is None
    contact = {"name": "Quincy Zebra", "phone": "+14155550199"}
    await api.post(
        f"/api/v1/appointments/{aid}/check-in",
        json={**CHECK_IN, "emergency_contact": contact, "emergency_contact_updated": True},
        headers=care.client.headers,
    )
    booked = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": care.therapist.id,
            "start": "2026-12-08T15:00:00Z",
            "duration_minutes": 50,
            "modality": "video",
        },
        headers=care.client.headers,
    )
    assert booked.status_code == 201, booked.text
    nid = booked.json()["id"]
    offered = (await api.get(f"/api/v1/appointments/{nid}/session", headers=care.client.headers)).json()
    assert offered["known_emergency_contact"] == contact and offered["check_in"] is None
    therapist_view = (await api.get(f"/api/v1/appointments/{nid}/session", headers=care.therapist.headers)).json()
    assert therapist_view["known_emergency_contact"] is None


async def test_a_repeated_check_in_is_recorded_once_and_a_changed_one_again(api, care, clock):
    aid = care.appointment["id"]
    url = f"/api/v1/appointments/{aid}/check-in"
    await at(api, clock, START - timedelta(minutes=8), care.therapist, care.client)
    first = await api.post(url, json=CHECK_IN, headers=care.client.headers)
    assert first.status_code == 200, first.text
    await at(api, clock, START - timedelta(minutes=6), care.therapist, care.client)
    for _ in range(4):  # a retry, a second tab, a double click
        again = await api.post(url, json=CHECK_IN, headers=care.client.headers)
        assert again.status_code == 200, again.text
    body = again.json()
    assert [e["kind"] for e in body["events"]].count("checked_in") == 1
    assert body["check_in"]["submitted_at"] == first.json()["check_in"]["submitted_at"]

    moved = await api.post(url, json={**CHECK_IN, "region": "NJ"}, headers=care.client.headers)
    assert moved.status_code == 200, moved.text
    assert [e["kind"] for e in moved.json()["events"]].count("checked_in") == 2
    assert moved.json()["check_in"]["region"] == "NJ"


async def test_a_check_in_location_is_a_real_country_and_one_of_its_regions(api, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=8), care.therapist, care.client)
    for place, field in (
        ({"country": "ZZ", "region": None}, "country"),
        ({"country": "US", "region": "ZZZ"}, "region"),
        ({"country": "GB", "region": "NY"}, "region"),
    ):
        refused = await api.post(
            f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, **place}, headers=care.client.headers
        )
        assert refused.status_code == 422, (place, refused.text)
        assert refused.json()["code"] == "invalid_check_in"
        assert refused.json()["errors"][0]["loc"] == ["body", field]
