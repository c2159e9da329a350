"""Phone sessions end to end: the real app places the bridge on a local fake of Twilio, which then plays
Twilio's part by calling the app's webhooks with signed requests."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from api.main import create_app
from tests.integration.telephony.conftest import (
    CLIENT_PHONE,
    NOW,
    THERAPIST_PHONE,
    book,
    current,
    place,
    set_phone,
)
from tests.integration.telephony.fake_twilio_voice import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, sign
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.sessions import CHECK_IN, connect, update_until
from tests.support.users import relogin, signed_up


async def test_a_session_call_rings_the_therapist_then_bridges_the_client(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    base = app[1]

    call = await place(api, session)

    assert call["status"] == "queued" and call["trigger"] == "therapist"
    # The request Twilio received: the therapist first, from the practice's number, with our webhooks.
    (req,) = [r for r in fake.requests if r.path.endswith("/Calls.json")]
    assert req.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert req.authorization == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert req.form["To"] == [THERAPIST_PHONE]
    assert req.form["From"] == [CALLER_ID]
    assert req.form["Url"] == [f"{base}/api/v1/telephony/twilio/calls/{call['id']}/connect"]
    assert req.form["StatusCallback"] == [f"{base}/api/v1/telephony/twilio/calls/{call['id']}/status"]
    assert sorted(req.form["StatusCallbackEvent"]) == ["answered", "completed", "initiated", "ringing"]
    assert CLIENT_PHONE not in str(req.form)  # the client is dialled only once the therapist is on the line
    (placed,) = fake.calls.values()

    clock.advance(seconds=5)
    child = await fake.answer_first(placed.sid, at=clock.now())

    # TwiML dials the client with the practice's number as caller id: neither sees the other's number.
    assert child.to == CLIENT_PHONE and child.from_ == CALLER_ID and child.parent_sid == placed.sid
    assert f'callerId="{CALLER_ID}"' in placed.twiml
    state = await current(api, session)
    assert state["status"] == "ringing"
    assert state["therapist_answered_at"] is not None and state["answered_at"] is None

    clock.advance(seconds=7)
    await fake.answer_second(child, at=clock.now())
    answered = clock.now()
    state = await current(api, session, session.client)
    assert state["status"] == "in_progress"
    assert state["answered_at"].replace("Z", "+00:00") == answered.isoformat()

    clock.advance(minutes=50)
    assert (await fake.callback(child, "completed", duration=2998, at=clock.now())).status_code == 204
    assert (await fake.callback(placed, "completed", duration=3010, at=clock.now())).status_code == 204

    state = await current(api, session)
    assert state["status"] == "completed"
    assert state["duration_seconds"] == 2998  # the bridged leg's talk time, as Twilio counted it
    assert [(e["leg"], e["status"]) for e in state["timeline"]] == [
        ("first", "queued"),
        ("first", "ringing"),
        ("first", "in_progress"),
        ("second", "queued"),
        ("second", "ringing"),
        ("second", "in_progress"),
        ("second", "completed"),
        ("first", "completed"),
    ]
    appointment_id = session.appointment["id"]
    assert [(a, s) for a, s, _ in session.heard] == [
        (appointment_id, "queued"),
        (appointment_id, "ringing"),
        (appointment_id, "in_progress"),
        (appointment_id, "completed"),
    ]
    assert session.heard[2][2] == answered
    for body in (str(state), str(call)):
        assert THERAPIST_PHONE not in body and CLIENT_PHONE not in body


async def test_a_repeated_callback_changes_nothing(api, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    await place(api, session)
    (placed,) = fake.calls.values()
    child = await fake.answer_first(placed.sid, at=clock.now())
    await fake.answer_second(child, at=clock.now())
    clock.advance(minutes=30)
    await fake.callback(child, "completed", duration=1800, at=clock.now())
    before = await current(api, session)
    heard = len(session.heard)

    # Twilio retries: the same callbacks again, even one out of order.
    clock.advance(minutes=5)
    child.sequence = 0
    assert (await fake.callback(child, "completed", duration=1800, at=clock.now())).status_code == 204
    assert (await fake.callback(child, "in-progress", at=clock.now())).status_code == 204
    assert (await fake.callback(placed, "ringing", at=clock.now())).status_code == 204

    after = await current(api, session)
    assert after == before
    assert after["status"] == "completed" and after["duration_seconds"] == 1800
    assert len(session.heard) == heard


async def test_a_bad_signature_is_rejected_and_changes_nothing(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    call = await place(api, session)
    (placed,) = fake.calls.values()
    url = placed.status_callback
    params = fake.params(placed, "in-progress")

    forged = [
        sign(url, params, token="not-the-auth-token"),  # wrong key
        sign(url, {**params, "CallStatus": "ringing"}),  # parameters altered after signing
        sign(url.replace(call["id"], str(uuid.uuid4())), params),  # signed for another address
        "",
    ]
    for signature in forged:
        response = await fake.post_signed(url, params, signature=signature)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_signature"
    response = await fake.post_signed(placed.url, params, signature=sign(placed.url, params, token="nope"))
    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
    assert "Dial" not in response.text and CLIENT_PHONE not in response.text

    state = await current(api, session)
    assert state["status"] == "queued" and state["timeline"] == []


async def test_the_therapist_hangs_up(api, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    await place(api, session)
    (placed,) = fake.calls.values()
    child = await fake.answer_first(placed.sid, at=clock.now())
    await fake.answer_second(child, at=clock.now())

    clock.advance(minutes=20)
    await relogin(api, session.therapist)
    response = await api.post(session.call_path + "/hang-up", headers=session.therapist.headers)
    assert response.status_code == 202, response.text
    hang_up = fake.requests[-1]
    assert hang_up.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{placed.sid}.json"
    assert hang_up.form == {"Status": ["completed"]}
    assert placed.status == "hangup-requested"

    # Twilio ends both legs and reports it.
    await fake.callback(child, "completed", duration=1200, at=clock.now())
    await fake.callback(placed, "completed", duration=1210, at=clock.now())
    state = await current(api, session)
    assert state["status"] == "completed" and state["duration_seconds"] == 1200
    again = await api.post(session.call_path + "/hang-up", headers=session.therapist.headers)
    assert again.status_code == 409 and again.json()["code"] == "no_live_call"


async def test_the_client_not_answering_ends_the_call_as_no_answer(api, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    await place(api, session)
    (placed,) = fake.calls.values()
    child = await fake.answer_first(placed.sid, at=clock.now())
    await fake.callback(child, "ringing", at=clock.now())
    clock.advance(seconds=30)
    await fake.callback(child, "no-answer", at=clock.now())
    await fake.callback(placed, "completed", duration=31, at=clock.now())

    state = await current(api, session)
    assert state["status"] == "no_answer" and state["answered_at"] is None and state["duration_seconds"] is None
    # Once over, a new call can be placed, and the connect webhook of the old one dials nobody.
    await place(api, session)
    response = await fake.post_signed(placed.url, fake.params(placed, "in-progress"))
    assert response.status_code == 200 and "<Hangup" in response.text and "<Dial" not in response.text


async def test_only_the_sessions_therapist_places_the_call(api, twilio, with_numbers):
    fake, _ = twilio
    session = with_numbers
    other_therapist = await signed_up(api, "therapist")
    other_client = await signed_up(api, "client")

    assert (await api.post(session.call_path, headers=other_therapist.headers)).status_code == 404
    assert (await api.post(session.call_path, headers=session.client.headers)).status_code == 403
    missing = f"/api/v1/appointments/{uuid.uuid4()}/phone-call"
    assert (await api.post(missing, headers=session.therapist.headers)).status_code == 404
    assert fake.calls == {}

    await place(api, session)
    for outsider in (other_therapist, other_client):
        assert (await api.get(session.call_path, headers=outsider.headers)).status_code == 404
        assert (await api.post(session.call_path + "/hang-up", headers=outsider.headers)).status_code == 404
    assert (await api.get(session.call_path, headers=session.client.headers)).status_code == 200


async def test_missing_numbers_and_a_live_call_have_clear_codes(api, twilio, session):
    fake, _ = twilio
    response = await api.post(session.call_path, headers=session.therapist.headers)
    assert response.status_code == 422 and response.json()["code"] == "therapist_phone_missing"
    assert (await set_phone(api, session.therapist, THERAPIST_PHONE)).status_code == 200
    response = await api.post(session.call_path, headers=session.therapist.headers)
    assert response.status_code == 422 and response.json()["code"] == "client_phone_missing"
    assert fake.calls == {}

    bad = await set_phone(api, session.client, "415 555")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_phone"
    assert (await set_phone(api, session.client, "0044 20 7946 0000")).json() == {"phone": "+442079460000"}
    assert (await api.get("/api/v1/me/phone", headers=session.client.headers)).json() == {"phone": "+442079460000"}

    await place(api, session)
    again = await api.post(session.call_path, headers=session.therapist.headers)
    assert again.status_code == 409 and again.json()["code"] == "call_already_live"
    assert len(fake.calls) == 1


async def test_a_refused_step_down_to_phone_changes_nothing_and_an_accepted_one_reaches_the_other(
    api, app, twilio, session
):
    fake, _ = twilio
    aid = session.appointment["id"]
    session_path = f"/api/v1/appointments/{aid}/session"
    check_in = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=session.client.headers)
    assert check_in.status_code == 200, check_in.text

    # The therapist has no number: the step-down is refused, and the session stays a video one (it could never
    # step back up from phone).
    refused = await api.post(f"{session_path}/modality", json={"modality": "phone"}, headers=session.client.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "therapist_phone_missing"
    state = (await api.get(session_path, headers=session.client.headers)).json()
    assert state["modality"] == "video"
    assert [e for e in state["events"] if e["kind"] == "modality_changed"] == []
    assert fake.calls == {}

    await set_phone(api, session.therapist, THERAPIST_PHONE)
    await set_phone(api, session.client, CLIENT_PHONE)
    therapist_ws = await connect(api, app[1], session.therapist)
    try:
        accepted = await api.post(
            f"{session_path}/modality", json={"modality": "phone"}, headers=session.client.headers
        )
        assert accepted.status_code == 200 and accepted.json()["modality"] == "phone"
        assert len(fake.calls) == 1
        # The therapist hears of it, as of any other change of modality.
        await update_until(therapist_ws, aid, lambda s: s["modality"] == "phone")
    finally:
        await therapist_ws.close()
    state = (await api.get(session_path, headers=session.therapist.headers)).json()
    assert [e["modality"] for e in state["events"] if e["kind"] == "modality_changed"] == ["phone"]


async def test_a_step_down_whose_call_the_provider_fails_stays_phone_and_both_hear_of_it(
    api, app, twilio, with_numbers
):
    fake, _ = twilio
    session = with_numbers
    aid = session.appointment["id"]
    check_in = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=session.client.headers)
    assert check_in.status_code == 200, check_in.text
    therapist_ws = await connect(api, app[1], session.therapist)
    try:
        fake.fail_next.append(503)
        response = await api.post(
            f"/api/v1/appointments/{aid}/session/modality", json={"modality": "phone"}, headers=session.client.headers
        )
        assert response.status_code == 503 and response.json()["code"] == "telephony_unavailable"
        # The step-down was accepted and committed; only the call failed, and "call client" places it again.
        await update_until(therapist_ws, aid, lambda s: s["modality"] == "phone")
    finally:
        await therapist_ws.close()
    assert (await place(api, session))["status"] == "queued"


async def test_a_provider_failure_is_503_and_the_call_is_recorded_failed(api, twilio, with_numbers):
    fake, _ = twilio
    session = with_numbers
    fake.fail_next.append(503)
    response = await api.post(session.call_path, headers=session.therapist.headers)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "telephony_unavailable"
    assert THERAPIST_PHONE not in response.text
    assert (await current(api, session))["status"] == "failed"
    assert [s for _, s, _ in session.heard] == ["queued", "failed"]
    await place(api, session)  # a failed call does not block the next


async def test_calls_only_inside_the_sessions_window(api, twilio, with_numbers):
    session = with_numbers
    later = await book(api, session.therapist, session.client, "2026-11-27T18:00:00Z")
    response = await api.post(f"/api/v1/appointments/{later['id']}/phone-call", headers=session.therapist.headers)
    assert response.status_code == 409 and response.json()["code"] == "outside_call_window"


async def test_a_phone_session_is_called_at_its_start_time(api, app, twilio, session, clock):
    fake, _ = twilio
    worker = app[0].state.container.worker
    assert (await set_phone(api, session.therapist, THERAPIST_PHONE)).status_code == 200
    assert (await set_phone(api, session.client, CLIENT_PHONE)).status_code == 200
    phone = await book(api, session.therapist, session.client, "2026-11-27T16:00:00Z", modality="phone")
    moved = await book(api, session.therapist, session.client, "2026-11-27T17:00:00Z", modality="phone")
    rescheduled = await api.post(
        f"/api/v1/appointments/{moved['id']}/reschedule",
        json={"start": "2026-11-27T19:00:00Z"},
        headers=session.client.headers,
    )
    assert rescheduled.status_code == 200, rescheduled.text

    clock.set(NOW + timedelta(minutes=59))
    await worker.drain(until=clock.now())
    assert [c for c in fake.calls.values() if c.parent_sid is None] == []

    clock.set(NOW + timedelta(hours=1))
    await worker.drain(until=clock.now())
    (placed,) = fake.calls.values()
    assert placed.to == THERAPIST_PHONE and placed.from_ == CALLER_ID
    child = await fake.answer_first(placed.sid, at=clock.now())
    assert child.to == CLIENT_PHONE
    container = app[0].state.container
    async with container.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT appointment_id, trigger FROM phone_calls"))).all()
    assert [(str(a), t) for a, t in rows] == [(phone["id"], "scheduled")]

    # The moved session's old job (17:00) does nothing; its new time (19:00) rings.
    clock.set(NOW + timedelta(hours=2, minutes=1))
    await worker.drain(until=clock.now())
    assert len([c for c in fake.calls.values() if c.parent_sid is None]) == 1
    clock.set(NOW + timedelta(hours=4))
    await worker.drain(until=clock.now())
    assert len([c for c in fake.calls.values() if c.parent_sid is None]) == 2


async def test_the_start_time_job_skips_a_session_the_therapist_already_called(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    worker = app[0].state.container.worker
    called_early = await book(api, session.therapist, session.client, "2026-11-27T16:00:00Z", modality="phone")
    refused_early = await book(api, session.therapist, session.client, "2026-11-27T17:00:00Z", modality="phone")

    def therapist_calls() -> list:
        return [c for c in fake.calls.values() if c.parent_sid is None]

    # 15:48: the therapist calls 12 minutes early; they talk and hang up before the start time.
    clock.set(NOW + timedelta(minutes=48))
    await relogin(api, session.therapist, session.client)
    path = f"/api/v1/appointments/{called_early['id']}/phone-call"
    assert (await api.post(path, headers=session.therapist.headers)).status_code == 201
    (placed,) = therapist_calls()
    child = await fake.answer_first(placed.sid, at=clock.now())
    await fake.answer_second(child, at=clock.now())
    clock.advance(minutes=10)
    await fake.callback(child, "completed", duration=600, at=clock.now())
    await fake.callback(placed, "completed", duration=601, at=clock.now())
    assert (await api.get(path, headers=session.therapist.headers)).json()["status"] == "completed"

    clock.set(NOW + timedelta(hours=1))
    await worker.drain(until=clock.now())
    assert therapist_calls() == [placed]  # no second call at 16:00

    # 16:50: an early call Twilio refused reached nobody, so the start time still calls.
    clock.set(NOW + timedelta(hours=1, minutes=50))
    await relogin(api, session.therapist, session.client)
    fake.fail_next.append(503)
    path = f"/api/v1/appointments/{refused_early['id']}/phone-call"
    assert (await api.post(path, headers=session.therapist.headers)).status_code == 503
    clock.set(NOW + timedelta(hours=2))
    await worker.drain(until=clock.now())
    assert len(therapist_calls()) == 2 and therapist_calls()[-1].to == THERAPIST_PHONE


async def test_the_console_backend_simulates_a_call_in_process(settings, clock):
    """Development: no provider, no webhooks; the console adapter plays the call's progress and its hang-up."""
    clock.set(NOW)
    configured = settings.model_copy(update={"telephony_backend": "console", "telephony_console_step_seconds": 0})
    async with serve(create_app(configured, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        therapist = await signed_up(api, "therapist")
        await bookable_therapist(api, therapist)
        client = await signed_up(api, "client")
        appointment = await book(api, therapist, client, "2026-11-27T15:10:00Z", modality="phone")
        for user, number in ((therapist, THERAPIST_PHONE), (client, CLIENT_PHONE)):
            assert (await set_phone(api, user, number)).status_code == 200
        path = f"/api/v1/appointments/{appointment['id']}/phone-call"
        assert (await api.post(path, headers=therapist.headers)).status_code == 201
        for _ in range(100):
            state = (await api.get(path, headers=client.headers)).json()
            if state["status"] == "in_progress":
                break
            await asyncio.sleep(0.02)
        assert state["status"] == "in_progress", state
        webhook = await api.post(f"/api/v1/telephony/twilio/calls/{state['id']}/status", data={"CallSid": "x"})
        assert webhook.status_code == 403  # the console takes no webhooks
        assert (await api.post(path + "/hang-up", headers=therapist.headers)).status_code == 202
        assert (await api.get(path, headers=therapist.headers)).json()["status"] == "completed"


async def test_a_phone_session_without_numbers_fails_its_job_at_once(api, app, twilio, session, clock):
    fake, _ = twilio
    worker = app[0].state.container.worker
    await book(api, session.therapist, session.client, "2026-11-27T16:00:00Z", modality="phone")

    clock.set(NOW + timedelta(hours=1))
    # The call (it fails) and the no-show check of the fixture's 15:10 session.
    assert await worker.drain(until=clock.now()) == 2
    clock.set(NOW + timedelta(hours=3))
    # Only this session's own no-show check: the failed call is permanent, no retry would find a number either.
    assert await worker.drain(until=clock.now()) == 1
    assert fake.calls == {}
