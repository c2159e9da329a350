"""Calls the provider has not confirmed: placing cut off after the call's row was committed (the process died or
the task was cancelled while asking Twilio)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from domain.telephony.model import UNPLACED_CALL_EXPIRES_AFTER
from domain.telephony.service import ScheduledCallPending, TelephonyService
from tests.integration.telephony.conftest import NOW, Session, book, current, place
from tests.integration.telephony.fake_twilio_voice import FakeTwilioVoice
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
