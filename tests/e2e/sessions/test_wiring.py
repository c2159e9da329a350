"""The composition root's wiring, without fakes: a live session that ends becomes billing's coded charge, and the
real relay and telephony are what the session service uses."""

from __future__ import annotations

from datetime import timedelta

from domain.telephony.service import TelephonyService
from tests.e2e.sessions.conftest import START, at
from tests.support.sessions import CHECK_IN, connect, recv, send


async def test_a_50_minute_video_session_from_home_is_billed_as_90834_95_at_home(api, app, care, clock):
    container = app[0].state.container
    assert container.media_relay is not None and isinstance(container.phone_calls, TelephonyService)
    aid = care.appointment["id"]
    await at(api, clock, START - timedelta(minutes=2), care.therapist, care.client)
    checked = await api.post(
        f"/api/v1/appointments/{aid}/check-in", json={**CHECK_IN, "at_home": True}, headers=care.client.headers
    )
    assert checked.status_code == 200, checked.text
    await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)
    therapist_ws = await connect(api, app[1], care.therapist)
    client_ws = await connect(api, app[1], care.client)
    try:
        clock.set(START)
        for ws in (therapist_ws, client_ws):
            await send(ws, type="session_join", appointment_id=aid)
            await recv(ws, "session_joined")
        await at(api, clock, START + timedelta(minutes=50), care.therapist, care.client)
        ended = await api.post(f"/api/v1/appointments/{aid}/session/end", headers=care.therapist.headers)
        assert ended.status_code == 200, ended.text
    finally:
        await therapist_ws.close()
        await client_ws.close()

    charges = await api.get("/api/v1/charges", headers=care.therapist.headers)
    assert charges.status_code == 200, charges.text
    [charge] = charges.json()["items"]
    assert charge["service_date"] == "2026-12-01"
    assert (charge["coding"]["procedure"], charge["coding"]["place_of_service"]) == ("90834-95", "10")
    assert charge["coding"]["psychotherapy_minutes"] == 50
