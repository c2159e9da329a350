"""A booking that waits for the therapist's lock while the therapist changes their office hours is checked against
the new hours, not the ones it read before it waited."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from infra.db.engine import create_engine, session_factory
from infra.db.uow import SqlUnitOfWork
from tests.e2e.scheduling.conftest import booking
from tests.support.scheduling import bookable_therapist
from tests.support.users import signed_up

START = "2026-12-10T15:00:00Z"  # a Thursday, inside the published hours


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_a_booking_waiting_on_an_hours_change_is_checked_against_the_new_hours(api, engine):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    therapist_id = uuid.UUID(therapist.id)

    async with SqlUnitOfWork(session_factory(engine)) as uow:
        # The therapist's PUT of office hours, caught between taking the lock and committing: no hours any more.
        await uow.appointments.lock_therapist(therapist_id)
        hours = await uow.office_hours.get(therapist_id)
        assert hours is not None
        await uow.office_hours.save(therapist_id, replace(hours, weekly=()), datetime.now(UTC))
        booked = asyncio.create_task(
            api.post("/api/v1/appointments", json=booking(therapist, START), headers=client.headers)
        )
        await asyncio.sleep(0.5)
        assert not booked.done(), "the booking waits for the therapist's lock"
        await uow.commit()

    response = await asyncio.wait_for(booked, 10)
    assert response.status_code == 422 and response.json()["code"] == "outside_office_hours", response.text
