"""Attendance with a controllable clock: connected minutes per modality, completion by the therapist, the
client's no-show (a job), the therapist's no-show, and phone-call status from telephony."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from domain.scheduling.model import Modality
from tests.e2e.sessions.conftest import START, at
from tests.support.sessions import CHECK_IN, FakePhoneCalls, connect, recv, send, update_until


async def _drain(app, clock) -> None:
    await app[0].state.container.worker.drain(until=clock.now())


async def _status(api, care) -> str:
    return (await api.get(f"/api/v1/appointments/{care.appointment['id']}", headers=care.client.headers)).json()[
        "status"
    ]


async def test_client_not_joined_15_minutes_after_start_is_a_no_show(api, app, care, clock, ports):
    aid = care.appointment["id"]
    await at(api, clock, START + timedelta(minutes=14), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "booked" and ports.outcomes.no_shows == []
    await at(api, clock, START + timedelta(minutes=15), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "no_show"
    assert [(str(a), t) for a, t in ports.outcomes.no_shows] == [(aid, START + timedelta(minutes=15))]
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert [e["kind"] for e in session["events"]] == ["no_show"]


async def test_a_no_show_whose_fee_failed_is_retried_and_recorded_once(api, app, care, clock, ports):
    """The no-show and its fee commit together: billing failing once fails the job, whose retry marks the no-show
    and records its fee (a no-show committed without its fee would be skipped by the retry, its fee lost)."""
    aid = care.appointment["id"]
    ports.outcomes.fail_once = True
    await at(api, clock, START + timedelta(minutes=15), care.therapist, care.client)
    await _drain(app, clock)  # the clinical app retries at once: one drain runs both tries
    assert ports.outcomes.fail_once is False, "billing was asked, and failed once"
    assert await _status(api, care) == "no_show"
    assert [(str(a), t) for a, t in ports.outcomes.no_shows] == [(aid, START + timedelta(minutes=15))]
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert [e["kind"] for e in session["events"]] == ["no_show"], "the failed try left nothing behind"


async def test_a_checked_in_client_who_never_joins_is_a_no_show_too(api, app, care, clock, ports):
    await at(api, clock, START - timedelta(minutes=3), care.therapist, care.client)
    await api.post(
        f"/api/v1/appointments/{care.appointment['id']}/check-in", json=CHECK_IN, headers=care.client.headers
    )
    assert await _status(api, care) == "checked_in"
    await at(api, clock, START + timedelta(minutes=20), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "no_show" and len(ports.outcomes.no_shows) == 1


async def test_a_rescheduled_appointment_is_checked_at_its_new_time(api, app, care, clock, ports):
    moved = await api.post(
        f"/api/v1/appointments/{care.appointment['id']}/reschedule",
        json={"start": "2026-12-01T16:00:00Z"},
        headers=care.client.headers,
    )
    assert moved.status_code == 200, moved.text
    await at(api, clock, START + timedelta(minutes=20), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "booked", "the old time's check re-arms itself for the new time"
    await at(api, clock, START + timedelta(minutes=75), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "no_show"


async def test_therapist_ends_completed_with_minutes_per_modality(api, app, care, clock, ports):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=2), care.therapist, care.client)
    await api.post(
        f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, "at_home": False}, headers=care.client.headers
    )
    await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        await send(therapist_ws, type="session_join", appointment_id=aid)
        await recv(therapist_ws, "session_joined")
        early = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
        assert early.status_code == 409 and early.json()["code"] == "session_not_started"
        clock.set(START)
        await send(client_ws, type="session_join", appointment_id=aid)
        await recv(client_ws, "session_joined")
        assert await _status(api, care) == "in_progress"

        clock.set(START + timedelta(minutes=20))
        await send(client_ws, type="mode_change", appointment_id=aid, modality="audio")
        await update_until(therapist_ws, aid, lambda s: s["modality"] == "audio")
        clock.set(START + timedelta(minutes=30))
        await send(client_ws, type="session_leave", appointment_id=aid)  # a dropped minute is not counted
        await update_until(therapist_ws, aid, lambda s: care.client.id not in s["connected"])
        clock.set(START + timedelta(minutes=32))
        await send(client_ws, type="session_join", appointment_id=aid)
        await recv(client_ws, "session_joined")
        clock.set(START + timedelta(minutes=45, seconds=20))
        await at(api, clock, clock.now(), care.therapist, care.client)
        assert (
            await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.client.headers)
        ).status_code == 403
        ended = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
        assert ended.status_code == 200, ended.text
        assert ended.json()["ended_at"] == "2026-12-01T15:45:20Z"
    finally:
        await therapist_ws.close()
        await client_ws.close()
    assert await _status(api, care) == "completed"
    [(appointment_id, minutes, at_home, ended_at)] = ports.outcomes.completed
    assert str(appointment_id) == aid and at_home is False and ended_at == START + timedelta(minutes=45, seconds=20)
    assert minutes == {Modality.VIDEO: 20, Modality.AUDIO: 23}  # 10 + 13:20 of audio, 2 minutes apart
    await _drain(app, clock)
    assert await _status(api, care) == "completed" and ports.outcomes.no_shows == []


async def test_therapist_no_show_is_recorded(api, app, care, clock, ports):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=1), care.therapist, care.client)
    await api.put(
        f"/api/v1/appointments/{aid}/session/auto-admit", json={"enabled": True}, headers=care.therapist.headers
    )
    await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    clock.set(START + timedelta(minutes=1))
    client_ws = await connect(api, app[1], care.client)
    try:
        await send(client_ws, type="session_join", appointment_id=aid)
        await recv(client_ws, "session_joined")
    finally:
        await client_ws.close()
    await at(api, clock, START + timedelta(minutes=16), care.therapist, care.client)
    await _drain(app, clock)
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.client.headers)).json()
    assert session["status"] == "checked_in" and ports.outcomes.no_shows == []
    assert [e["actor_id"] for e in session["events"] if e["kind"] == "therapist_no_show"] == [care.therapist.id]
    # The therapist who did not come cannot turn it into the client's no-show (and its fee).
    marked = await api.post(
        f"/api/v1/appointments/{aid}/status", json={"status": "no_show"}, headers=care.therapist.headers
    )
    assert marked.status_code == 409 and marked.json()["code"] == "client_attended", marked.text
    assert await _status(api, care) == "checked_in" and ports.outcomes.no_shows == []


async def test_phone_call_status_counts_as_attendance(api, app, care, clock, ports):
    aid = care.appointment["id"]
    container = app[0].state.container
    await container.sessions.record_phone_status(uuid.UUID(aid), "ringing", START)
    await container.sessions.record_phone_status(uuid.UUID(aid), "in_progress", START + timedelta(minutes=1))
    await at(api, clock, START + timedelta(minutes=16), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "in_progress" and ports.outcomes.no_shows == []


async def test_step_down_to_phone_counts_phone_minutes(api, app, care, clock, ports):
    aid = care.appointment["id"]
    container = app[0].state.container
    await at(api, clock, START - timedelta(minutes=1), care.therapist, care.client)
    await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        clock.set(START)
        for socket in (therapist_ws, client_ws):
            await send(socket, type="session_join", appointment_id=aid)
            await recv(socket, "session_joined")
        clock.set(START + timedelta(minutes=5))
        await send(therapist_ws, type="mode_change", appointment_id=aid, modality="phone")
        await update_until(client_ws, aid, lambda s: s["modality"] == "phone")
        assert [str(a) for a, _, _ in ports.phone.calls] == [aid]
        await container.sessions.record_phone_status(uuid.UUID(aid), "in_progress", START + timedelta(minutes=6))
        await container.sessions.record_phone_status(uuid.UUID(aid), "completed", START + timedelta(minutes=26))
        await at(api, clock, START + timedelta(minutes=30), care.therapist, care.client)
        ended = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
        assert ended.status_code == 200
    finally:
        await therapist_ws.close()
        await client_ws.close()
    [(_, minutes, at_home, _)] = ports.outcomes.completed
    assert minutes == {Modality.VIDEO: 5, Modality.PHONE: 20} and at_home is True


async def test_phone_step_down_needs_telephony_and_the_therapist_can_call_again(api, app, care, clock):
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=1), care.therapist, care.client)
    app[0].state.container.phone_calls = None  # a deployment without telephony
    unavailable = await api.post(
        f"/api/v1/appointments/{aid}/session/modality", json={"modality": "phone"}, headers=care.client.headers
    )
    assert unavailable.status_code == 409 and unavailable.json()["code"] == "telephony_unavailable"
    phone = FakePhoneCalls()
    app[0].state.container.phone_calls = phone
    not_yet = await api.post(f"/api/v1/appointments/{aid}/session/phone-call", headers=care.therapist.headers)
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "not_phone_session"
    stepped = await api.post(
        f"/api/v1/appointments/{aid}/session/modality", json={"modality": "phone"}, headers=care.client.headers
    )
    assert stepped.status_code == 200 and len(phone.calls) == 1
    assert (
        await api.post(f"/api/v1/appointments/{aid}/session/phone-call", headers=care.client.headers)
    ).status_code == 403
    again = await api.post(f"/api/v1/appointments/{aid}/session/phone-call", headers=care.therapist.headers)
    assert again.status_code == 202
    expected = (uuid.UUID(aid), uuid.UUID(care.therapist.id), uuid.UUID(care.client.id))
    assert phone.calls == [expected, expected]


async def _force_status(database_url: str, appointment_id: str, status: str) -> None:
    """What an older release let a therapist do by hand: the status without anyone having joined."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE appointments SET status = $2 WHERE id = $1", uuid.UUID(appointment_id), status)
    finally:
        await conn.close()


async def test_a_session_nobody_attended_cannot_be_ended(api, app, care, clock, ports, database_url):
    aid = care.appointment["id"]
    await at(api, clock, START + timedelta(minutes=5), care.therapist, care.client)
    await _force_status(database_url, aid, "in_progress")
    refused = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "session_not_held", refused.text
    # The therapist alone in the call is no session either.
    therapist_ws = await connect(api, app[1], care.therapist)
    try:
        await send(therapist_ws, type="session_join", appointment_id=aid)
        await recv(therapist_ws, "session_joined")
        await at(api, clock, START + timedelta(minutes=50), care.therapist, care.client)
        alone = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
        assert alone.status_code == 409 and alone.json()["code"] == "session_not_held", alone.text
    finally:
        await therapist_ws.close()
    assert await _status(api, care) == "in_progress" and ports.outcomes.completed == []
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert session["ended_at"] is None


async def test_a_connected_phone_call_is_a_session_that_took_place(api, app, care, clock, ports):
    """Nobody joined in the app: the platform's phone bridge connected them, which is attendance enough."""
    aid = care.appointment["id"]
    container = app[0].state.container
    await at(api, clock, START, care.therapist, care.client)
    stepped = await api.post(
        f"/api/v1/appointments/{aid}/session/modality", json={"modality": "phone"}, headers=care.therapist.headers
    )
    assert stepped.status_code == 200, stepped.text
    await container.sessions.record_phone_status(uuid.UUID(aid), "in_progress", START + timedelta(minutes=1))
    await container.sessions.record_phone_status(uuid.UUID(aid), "completed", START + timedelta(minutes=31))
    await at(api, clock, START + timedelta(minutes=32), care.therapist, care.client)
    ended = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
    assert ended.status_code == 200, ended.text
    [(_, minutes, _, _)] = ports.outcomes.completed
    assert minutes == {Modality.PHONE: 30}


async def test_a_client_not_alone_today_is_no_no_show_and_the_chat_session_can_end(api, app, care, clock, ports):
    """The check-in turned the session into chat: nobody joins a call, the conversation is the room."""
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=3), care.therapist, care.client)
    checked = await api.post(
        f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, "private": False}, headers=care.client.headers
    )
    assert checked.status_code == 200 and checked.json()["modality"] == "chat", checked.text
    await at(api, clock, START + timedelta(minutes=20), care.therapist, care.client)
    await _drain(app, clock)
    assert await _status(api, care) == "checked_in" and ports.outcomes.no_shows == []
    session = (await api.get(f"/api/v1/appointments/{aid}/session", headers=care.therapist.headers)).json()
    assert "therapist_no_show" not in [e["kind"] for e in session["events"]]

    await at(api, clock, START + timedelta(minutes=50), care.therapist, care.client)
    ended = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
    assert ended.status_code == 200, ended.text
    assert await _status(api, care) == "completed"
    [(_, minutes, _, _)] = ports.outcomes.completed
    assert minutes.get(Modality.CHAT, 0) > 0
