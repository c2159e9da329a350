"""Calls the provider has not confirmed: placing cut off after the call's row was committed (the process died or
the task was cancelled while asking Twilio), and create-call requests whose answer was lost."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.telephony.model import UNPLACED_CALL_EXPIRES_AFTER
from domain.telephony.service import ScheduledCallPending, TelephonyService
from tests.integration.telephony.conftest import NOW, THERAPIST_PHONE, Session, book, current, place
from tests.integration.telephony.fake_twilio_voice import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, FakeTwilioVoice
from tests.support.users import relogin


async def _cut_off(fake: FakeTwilioVoice, placing: asyncio.Future[object]) -> None:
    """Waits until the create-call request reached Twilio's door, then ends the task that sent it."""
    for _ in range(500):
        if any(r.path.endswith("/Calls.json") for r in fake.requests):
            break
        await asyncio.sleep(0.01)
    placing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await placing
    assert fake.calls == {}  # the request never got through: nobody's phone rings


async def _statuses(app, appointment_id: str) -> list[str]:
    async with app[0].state.container.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT status FROM phone_calls WHERE appointment_id = :a ORDER BY created_at"),
            {"a": appointment_id},
        )
        return [r.status for r in rows]


def _cut_off_button(app, session: Session) -> asyncio.Task[object]:
    telephony: TelephonyService = app[0].state.container.telephony
    return asyncio.create_task(
        telephony.call_for_session(
            uuid.UUID(session.appointment["id"]), uuid.UUID(session.therapist.id), uuid.UUID(session.client.id)
        )
    )


async def test_a_call_cut_off_while_placing_stops_blocking_the_next_one(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    fake.stall_creates.append("before_create")
    await _cut_off(fake, _cut_off_button(app, session))
    assert (await current(api, session))["status"] == "queued"

    # Within the bound it may still be on its way: the button says so rather than ringing the therapist twice.
    early = await api.post(session.call_path, headers=session.therapist.headers)
    assert early.status_code == 409 and early.json()["code"] == "call_already_live"

    clock.advance(seconds=UNPLACED_CALL_EXPIRES_AFTER.total_seconds())
    await relogin(api, session.therapist, session.client)
    call = await place(api, session)
    assert call["status"] == "queued"
    assert await _statuses(app, session.appointment["id"]) == ["failed", "queued"]
    assert [s for _, s, _ in session.heard] == ["queued", "failed", "queued"]
    assert len(fake.calls) == 1
    (placed,) = fake.calls.values()
    await fake.answer_first(placed.sid, at=clock.now())
    assert (await current(api, session))["status"] == "ringing"


async def test_hanging_up_a_call_cut_off_while_placing_ends_it_here(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    fake.stall_creates.append("before_create")
    await _cut_off(fake, _cut_off_button(app, session))
    hang_up = session.call_path + "/hang-up"

    early = await api.post(hang_up, headers=session.therapist.headers)
    assert early.status_code == 409 and early.json()["code"] == "no_live_call"

    clock.advance(seconds=UNPLACED_CALL_EXPIRES_AFTER.total_seconds())
    await relogin(api, session.therapist, session.client)
    response = await api.post(hang_up, headers=session.client.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "failed"
    assert (await current(api, session))["status"] == "failed"
    assert [r.path for r in fake.requests if not r.path.endswith("/Calls.json")] == []  # Twilio never had it
    assert [s for _, s, _ in session.heard] == ["queued", "failed"]
    await place(api, session)
    assert len(fake.calls) == 1


async def test_the_start_time_job_runs_again_until_a_cut_off_call_is_settled(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    telephony: TelephonyService = app[0].state.container.telephony
    phone = await book(api, session.therapist, session.client, "2026-11-27T16:00:00Z", modality="phone")
    start = datetime.fromisoformat(phone["start"])
    clock.set(NOW + timedelta(hours=1))
    fake.stall_creates.append("before_create")
    await _cut_off(fake, asyncio.create_task(telephony.place_scheduled(uuid.UUID(phone["id"]), start)))

    # The job's retry must not take the cut-off call for a placed one: that would leave the session uncalled.
    with pytest.raises(ScheduledCallPending):
        await telephony.place_scheduled(uuid.UUID(phone["id"]), start)

    clock.advance(seconds=UNPLACED_CALL_EXPIRES_AFTER.total_seconds())
    call = await telephony.place_scheduled(uuid.UUID(phone["id"]), start)
    assert call is not None and call.provider_call_id is not None
    (placed,) = fake.calls.values()
    assert call.provider_call_id == placed.sid
    assert await _statuses(app, phone["id"]) == ["failed", "queued"]


# Twilio's answer to a create-call request is lost: the app gives up waiting after a second.
LOST_ANSWER = pytest.mark.parametrize(
    "overrides", [{"twilio_timeout_seconds": 1.0, "jobs_retry_initial_seconds": 1}], ids=["lost-answer"]
)


def _therapist_calls(fake: FakeTwilioVoice) -> list:
    return [c for c in fake.calls.values() if c.parent_sid is None]


@LOST_ANSWER
async def test_a_call_created_by_twilio_whose_answer_was_lost_rings_the_therapist_once(
    api, twilio, with_numbers, clock
):
    fake, _ = twilio
    session = with_numbers
    fake.stall_creates.append("after_create")

    call = await place(api, session)
    assert call["status"] == "queued"  # not 503: Twilio has the call
    (placed,) = _therapist_calls(fake)
    # The app asked Twilio, as its API is asked: calls to the therapist from the practice's number, dialled since
    # the day of the attempt or still queued.
    lookups = [r for r in fake.requests if r.method == "GET"]
    assert [r.path for r in lookups] == [f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"] * 2
    assert {r.authorization for r in lookups} == {
        "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    }
    common = {"To": [THERAPIST_PHONE], "From": [CALLER_ID], "PageSize": ["50"]}
    assert [r.query for r in lookups] == [{**common, "StartTime>": ["2026-11-27"]}, {**common, "Status": ["queued"]}]

    again = await api.post(session.call_path, headers=session.therapist.headers)
    assert again.status_code == 409 and again.json()["code"] == "call_already_live"
    # Twilio goes on with the call it created: its webhooks make it the session's call and the client is dialled.
    child = await fake.answer_first(placed.sid, at=clock.now())
    assert "<Dial" in (placed.twiml or "")
    await fake.answer_second(child, at=clock.now())
    assert (await current(api, session))["status"] == "in_progress"

    clock.advance(minutes=2)
    await relogin(api, session.therapist, session.client)
    again = await api.post(session.call_path, headers=session.therapist.headers)
    assert again.status_code == 409 and again.json()["code"] == "call_already_live"
    assert (await api.post(session.call_path + "/hang-up", headers=session.therapist.headers)).status_code == 202
    assert fake.requests[-1].path.endswith(f"/Calls/{placed.sid}.json")
    assert [c.to for c in _therapist_calls(fake)] == [THERAPIST_PHONE]


@LOST_ANSWER
async def test_a_start_time_call_whose_answer_was_lost_is_not_placed_again(api, app, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    worker = app[0].state.container.worker
    phone = await book(api, session.therapist, session.client, "2026-11-27T16:00:00Z", modality="phone")
    fake.stall_creates.append("after_create")

    clock.set(NOW + timedelta(hours=1))
    await worker.drain(until=clock.now())
    (placed,) = _therapist_calls(fake)
    await fake.answer_first(placed.sid, at=clock.now())
    await asyncio.sleep(1.2)  # the job's retry is due (its backoff runs on the real clock)
    await worker.drain(until=clock.now())

    assert _therapist_calls(fake) == [placed]
    assert "<Dial" in (placed.twiml or "")
    assert await _statuses(app, phone["id"]) == ["ringing"]


@LOST_ANSWER
async def test_a_create_call_timeout_without_a_call_is_a_failure_to_retry(api, twilio, with_numbers, clock):
    fake, _ = twilio
    session = with_numbers
    fake.stall_creates.append("before_create")

    response = await api.post(session.call_path, headers=session.therapist.headers)
    assert response.status_code == 503 and response.json()["code"] == "telephony_unavailable"
    assert response.headers["retry-after"] == "30", "a provider outage says when to try again"
    assert THERAPIST_PHONE not in response.text
    # Only once Twilio showed it has no such call (dialled or queued).
    assert [r.query.get("Status") for r in fake.requests if r.method == "GET"] == [None, ["queued"]]
    assert (await current(api, session))["status"] == "failed"
    await place(api, session)
    assert len(_therapist_calls(fake)) == 1


@LOST_ANSWER
async def test_a_lost_answer_twilio_cannot_be_asked_about_leaves_the_call_to_its_webhooks(
    api, twilio, with_numbers, clock
):
    fake, _ = twilio
    session = with_numbers
    fake.stall_creates.append("before_create")
    fake.fail_next.append(500)  # the lookup

    assert (await place(api, session))["status"] == "queued"
    again = await api.post(session.call_path, headers=session.therapist.headers)
    assert again.status_code == 409 and again.json()["code"] == "call_already_live"
    # No webhook ever came: it counts as never placed a minute on, and the next press rings.
    clock.advance(seconds=UNPLACED_CALL_EXPIRES_AFTER.total_seconds())
    await relogin(api, session.therapist, session.client)
    await place(api, session)
    assert len(_therapist_calls(fake)) == 1
