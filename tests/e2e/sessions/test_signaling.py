"""Signaling between two real WebSocket clients: join, SDP offer/answer, ICE, renegotiation, mode and path
changes - in one process and across two processes sharing the database and its bus."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx

from api.main import create_app
from tests.e2e.sessions.conftest import START, at
from tests.support.server import serve
from tests.support.sessions import CHECK_IN, connect, recv, send

OFFER = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
CANDIDATE = "candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 10.0.0.2 rport 46154"


async def ready(api, care, clock) -> str:
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=1), care.therapist, care.client)
    assert (
        await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    ).status_code == 200
    assert (
        await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)
    ).status_code == 200
    return aid


async def join(ws, aid) -> None:
    await send(ws, type="session_join", appointment_id=aid)
    await recv(ws, "session_joined")


async def client_gone(api, care, aid) -> dict:
    """The session as the therapist sees it, once the client is no longer connected (5 s at most)."""
    for _ in range(50):
        state = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
        if care.client.id not in state["connected"]:
            break
        await asyncio.sleep(0.1)
    return state


async def exchange(therapist_ws, client_ws, care, aid) -> None:
    await send(therapist_ws, type="session_join", appointment_id=aid)
    joined = await recv(therapist_ws, "session_joined")
    assert joined["polite"] is False and joined["session"]["media_path"] == "p2p"
    await send(client_ws, type="session_join", appointment_id=aid)
    assert (await recv(client_ws, "session_joined"))["polite"] is True
    seen = await recv(therapist_ws, "session_update", appointment_id=aid)
    while care.client.id not in seen["session"]["connected"]:
        seen = await recv(therapist_ws, "session_update", appointment_id=aid)

    await send(therapist_ws, type="call_offer", appointment_id=aid, sdp=OFFER)
    offer = await recv(client_ws, "call_offer")
    assert (offer["sdp"], offer["from_user_id"]) == (OFFER, care.therapist.id)
    await send(client_ws, type="call_answer", appointment_id=aid, sdp=OFFER.replace("4611", "9999"))
    answer = await recv(therapist_ws, "call_answer")
    assert answer["sdp"] == OFFER.replace("4611", "9999") and answer["from_user_id"] == care.client.id
    for i in range(3):
        await send(
            client_ws,
            type="ice_candidate",
            appointment_id=aid,
            candidate=f"{CANDIDATE} {i}",
            sdp_mid="0",
            sdp_mline_index=0,
        )
    got = [await recv(therapist_ws, "ice_candidate") for _ in range(3)]
    assert [c["candidate"] for c in got] == [f"{CANDIDATE} {i}" for i in range(3)], "in order, once"
    assert got[0]["sdp_mid"] == "0" and got[0]["sdp_mline_index"] == 0
    await send(therapist_ws, type="renegotiate", appointment_id=aid)
    assert (await recv(client_ws, "renegotiate"))["reason"] == "requested"


async def test_offer_answer_and_candidates_reach_the_other_participant(api, app, care, clock, database_url):
    aid = await ready(api, care, clock)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        await exchange(therapist_ws, client_ws, care, aid)
        appointment = (await api.get(f"/api/v1/appointments/{aid}", headers=care.client.headers)).json()
        assert appointment["status"] == "in_progress"
    finally:
        await therapist_ws.close()
        await client_ws.close()
    connection = await asyncpg.connect(database_url)
    try:
        bodies = await connection.fetch(
            "SELECT body FROM session_signals WHERE appointment_id = $1", care.appointment["id"]
        )
    finally:
        await connection.close()
    assert bodies and all(b"192.0.2.10" not in r["body"] and b"IN IP4" not in r["body"] for r in bodies)


async def test_signals_cross_processes_through_the_bus(api, app, care, clock, settings):
    aid = await ready(api, care, clock)
    second = create_app(settings, clock=clock)
    async with serve(second) as other_url, httpx.AsyncClient(base_url=other_url, timeout=30) as other_api:
        therapist_ws = await connect(api, app[1], care.therapist)
        client_ws = await connect(other_api, other_url, care.client)
        try:
            await exchange(therapist_ws, client_ws, care, aid)
        finally:
            await therapist_ws.close()
            await client_ws.close()


async def test_a_closed_socket_leaves_and_a_non_participant_cannot_signal(api, app, care, clock):
    aid = await ready(api, care, clock)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        await send(client_ws, type="call_offer", appointment_id=aid, sdp=OFFER)
        assert (await recv(client_ws, "error"))["code"] == "not_joined"
        await join(therapist_ws, aid)
        await join(client_ws, aid)
        await client_ws.close()
        state = await client_gone(api, care, aid)
        assert state["connected"] == [care.therapist.id]
        assert [e["kind"] for e in state["events"]][-1] == "left"
    finally:
        await therapist_ws.close()


async def test_an_old_socket_closing_after_a_rejoin_does_not_take_the_user_out(api, app, care, clock):
    # The client's network dropped and they rejoined from a fresh page; the old socket's close comes later.
    aid = await ready(api, care, clock)
    therapist_ws = await connect(api, app[1], care.therapist)
    old_ws = await connect(api, app[1], care.client)
    new_ws = await connect(api, app[1], care.client)
    try:
        await join(therapist_ws, aid)
        await join(old_ws, aid)
        await join(new_ws, aid)
        await old_ws.close()
        await asyncio.sleep(0.5)  # the server handles the close (in the buggy version: a "left" event)
        state = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
        assert sorted(state["connected"]) == sorted([care.therapist.id, care.client.id])
        assert [e["kind"] for e in state["events"]][-1] == "joined"
        await send(new_ws, type="call_offer", appointment_id=aid, sdp=OFFER)
        assert (await recv(therapist_ws, "call_offer"))["sdp"] == OFFER
        await new_ws.close()  # the latest join's socket closing does leave
        state = await client_gone(api, care, aid)
        assert state["connected"] == [care.therapist.id]
    finally:
        await therapist_ws.close()


async def test_step_down_events_and_the_relay_fallback(api, app, care, clock, ports):
    aid = await ready(api, care, clock)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        await join(therapist_ws, aid)
        await join(client_ws, aid)

        # Direct ICE failed: the client falls back to the relay; the server accepts it and both hear of it.
        await send(client_ws, type="path_change", appointment_id=aid, media_path="relayed")
        update = await recv(therapist_ws, "session_update", appointment_id=aid)
        while update["session"]["media_path"] != "relayed":
            update = await recv(therapist_ws, "session_update", appointment_id=aid)
        await send(therapist_ws, type="relay_offer", appointment_id=aid, sdp="v=0 therapist offer")
        first = await recv(therapist_ws, "relay_answer")
        assert first["sdp"] == f"v=0 answer-for-{care.therapist.id}" and first["streams"] == {}
        await send(client_ws, type="relay_offer", appointment_id=aid, sdp="v=0 client offer")
        second = await recv(client_ws, "relay_answer")
        assert second["streams"] == {"0": care.therapist.id}
        # The roster changed: the therapist is asked to offer again, to receive the client's media.
        assert (await recv(therapist_ws, "renegotiate"))["reason"] == "peer_joined"
        assert ports.relay.rooms[aid] == [care.therapist.id, care.client.id]

        clock.advance(minutes=3)
        await send(therapist_ws, type="mode_change", appointment_id=aid, modality="audio")
        update = await recv(client_ws, "session_update", appointment_id=aid)
        while update["session"]["modality"] != "audio":
            update = await recv(client_ws, "session_update", appointment_id=aid)
        await send(client_ws, type="mode_change", appointment_id=aid, modality="audio")
        assert (await recv(client_ws, "error"))["code"] == "invalid_step_down"

        clock.advance(minutes=2)
        phone = await api.post(
            f"/api/v1/appointments/{aid}/session/modality", json={"modality": "phone"}, headers=care.client.headers
        )
        assert phone.status_code == 200 and phone.json()["modality"] == "phone"
        assert [str(a) for a, _, _ in ports.phone.calls] == [aid]
        clock.advance(minutes=1)
        chat = await api.post(
            f"/api/v1/appointments/{aid}/session/modality", json={"modality": "chat"}, headers=care.therapist.headers
        )
        changes = [(e["modality"], e["at"]) for e in chat.json()["events"] if e["kind"] == "modality_changed"]
        assert changes == [
            ("audio", "2026-12-01T15:02:00Z"),
            ("phone", "2026-12-01T15:04:00Z"),
            ("chat", "2026-12-01T15:05:00Z"),
        ]
        paths = [e["detail"] for e in chat.json()["events"] if e["kind"] == "path_changed"]
        assert paths == ["relayed"]
        back_up = await api.post(
            f"/api/v1/appointments/{aid}/session/modality", json={"modality": "audio"}, headers=care.therapist.headers
        )
        assert back_up.status_code == 422 and back_up.json()["code"] == "invalid_step_down"
    finally:
        await therapist_ws.close()
        await client_ws.close()


async def test_a_session_opened_before_the_practice_required_the_relay_joins_relayed(api, app, care, clock, ports):
    aid = await ready(api, care, clock)
    opened = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()
    assert opened["media_path"] == "p2p"
    required = await api.put(
        "/api/v1/practices/me/session-settings", json={"require_relayed": True}, headers=care.therapist.headers
    )
    assert required.status_code == 200
    socket = await connect(api, app[1], care.therapist)
    try:
        await send(socket, type="session_join", appointment_id=aid)
        assert (await recv(socket, "session_joined"))["session"]["media_path"] == "relayed"
    finally:
        await socket.close()


async def test_a_practice_can_require_the_relay(api, app, care, clock, ports):
    settings = await api.put(
        "/api/v1/practices/me/session-settings", json={"require_relayed": True}, headers=care.therapist.headers
    )
    assert settings.status_code == 200
    aid = await ready(api, care, clock)
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()
    assert session["media_path"] == "relayed" and session["require_relayed"] is True
    client_ws = await connect(api, app[1], care.client)
    try:
        await join(client_ws, aid)
        await send(client_ws, type="path_change", appointment_id=aid, media_path="p2p")
        assert (await recv(client_ws, "error"))["code"] == "relayed_required"
    finally:
        await client_ws.close()


async def test_sdp_and_candidates_never_reach_the_logs(api, care, clock, settings, capfd):
    verbose = create_app(settings.model_copy(update={"log_level": "DEBUG"}), clock=clock)
    async with serve(verbose) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        aid = await ready(http, care, clock)
        therapist_ws = await connect(http, url, care.therapist)
        client_ws = await connect(http, url, care.client)
        try:
            await exchange(therapist_ws, client_ws, care, aid)
            # A frame the server refuses is not echoed into the logs either.
            await send(therapist_ws, type="call_offer", appointment_id=aid, sdp=OFFER, extra="x")
            assert (await recv(therapist_ws, "error"))["code"] == "invalid_frame"
        finally:
            await therapist_ws.close()
            await client_ws.close()
    logged = "".join(capfd.readouterr())
    assert "/api/v1/appointments/{appointment_id}/check-in" in logged, (
        "the server did log: the check below means something"
    )
    for secret in ("4611731400430051336", "192.0.2.10", "IN IP4", "Robin Contact", "+12125550100"):
        assert secret not in logged, secret
