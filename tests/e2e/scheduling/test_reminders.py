"""Reminders reach a real SMTP server at the right (fake-clock) times, through the job queue; one the server keeps
refusing ends `failed`, one whose job runs after the session began ends `expired`, unsent."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from api.main import create_app
from tests.e2e.scheduling.conftest import booking
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.smtp_server import smtp_server
from tests.support.users import relogin, signed_up


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
async def app(settings, clock, smtp):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    configured = settings.model_copy(
        update={"email_backend": "smtp", "smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_security": "none"}
    )
    application = create_app(configured, clock=clock)
    async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        yield application, api


@pytest.fixture
async def greylisted_app(settings, clock):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    with smtp_server(rcpt_reply="451 4.7.1 <someone@example.org>: Greylisted, come back later") as refusing:
        configured = settings.model_copy(
            update={
                "email_backend": "smtp",
                "smtp_host": refusing.host,
                "smtp_port": refusing.port,
                "smtp_security": "none",
                "jobs_max_attempts": 3,
                "jobs_retry_initial_seconds": 0,
            }
        )
        application = create_app(configured, clock=clock)
        async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
            yield application, api, refusing


async def _reminder_rows(application) -> list[tuple[str, int, str | None]]:
    async with application.state.container.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT status, attempts, last_error FROM reminders ORDER BY due_at"))
        return [(row.status, row.attempts, row.last_error) for row in rows]


async def _deliver(application, clock) -> int:
    return await application.state.container.worker.drain(until=clock.now())


def _bodies(smtp, address: str) -> list[str]:
    return [r.message.get_body(("plain",)).get_content() for r in smtp.received if address in r.rcpt_tos]


async def test_reminders_arrive_24h_and_1h_before_in_each_recipients_zone(app, clock, smtp):
    application, api = app
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client", display_name="Sam Q. Client-Surname", timezone="Europe/London")
    # Dec 10, 10:00 in New York = 15:00 UTC = 15:00 in London.
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers
    )
    assert response.status_code == 201
    appointment_id = response.json()["id"]

    clock.set(datetime(2026, 12, 9, 14, 59, tzinfo=UTC))
    await _deliver(application, clock)
    assert smtp.received == [], "nothing is sent before it is due"

    clock.set(datetime(2026, 12, 9, 15, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert len(smtp.received) == 2
    [to_client] = _bodies(smtp, client.email)
    [to_therapist] = _bodies(smtp, therapist.email)
    assert "15:00 GMT" in to_client and "with Dana" in to_client
    assert "10:00 EST" in to_therapist and "with Sam" in to_therapist
    assert "Surname" not in to_therapist, "no client surname in reminders"
    assert f"/appointments/{appointment_id}" in to_client

    clock.set(datetime(2026, 12, 10, 14, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert len(smtp.received) == 4
    await _deliver(application, clock)
    assert len(smtp.received) == 4, "each reminder is sent once"


async def test_cancelling_removes_pending_reminders(app, clock, smtp):
    application, api = app
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers
    )
    await api.post(f"/api/v1/appointments/{response.json()['id']}/cancel", json={}, headers=client.headers)
    clock.set(datetime(2026, 12, 10, 16, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert smtp.received == []


async def test_rescheduling_moves_the_reminders(app, clock, smtp):
    application, api = app
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers
    )
    moved = await api.post(
        f"/api/v1/appointments/{response.json()['id']}/reschedule",
        json={"start": "2026-12-11T15:00:00Z"},
        headers=client.headers,
    )
    assert moved.status_code == 200
    clock.set(datetime(2026, 12, 9, 15, 30, tzinfo=UTC))
    await _deliver(application, clock)
    assert smtp.received == [], "the old 24-hour reminder was withdrawn"
    clock.set(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert len(smtp.received) == 2


async def test_reminders_whose_session_already_began_expire_unsent(app, clock, smtp):
    application, api = app
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers
    )
    assert response.status_code == 201

    # The worker was down until the session's start: the session is still booked (no no-show check yet), and all
    # four reminders (24 h and 1 h before, to both) are due at once.
    clock.set(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))
    assert await _deliver(application, clock) == 4
    assert smtp.received == []
    assert [(status, attempts) for status, attempts, _ in await _reminder_rows(application)] == [("expired", 0)] * 4
    async with application.state.container.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT status FROM appointments"))).scalar_one() == "booked"


async def test_dst_keeps_the_24h_reminder_at_the_same_local_time(app, clock, smtp):
    application, api = app
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist, horizon_days=200)
    client = await signed_up(api, "client", timezone="America/New_York")
    clock.set(datetime(2027, 3, 1, 15, 0, tzinfo=UTC))
    await relogin(api, therapist, client)
    # New York springs forward at 02:00 on Sunday 14 March 2027. A 09:00 EDT session that Sunday (13:00 UTC)
    # is reminded at 09:00 EST on Saturday (14:00 UTC), 23 real hours before, not at 08:00 EST.
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2027-03-14T13:00:00Z"), headers=client.headers
    )
    assert response.status_code == 201, response.text
    clock.set(datetime(2027, 3, 13, 13, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert smtp.received == [], "24 real hours before is 08:00 local: too early"
    clock.set(datetime(2027, 3, 13, 14, 0, tzinfo=UTC))
    await _deliver(application, clock)
    assert len(smtp.received) == 2


async def test_a_reminder_the_server_keeps_refusing_ends_failed_not_pending(greylisted_app, clock):
    application, api, refusing = greylisted_app
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    response = await api.post(
        "/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=client.headers
    )
    assert response.status_code == 201

    clock.set(datetime(2026, 12, 9, 15, 0, tzinfo=UTC))  # the two 24-hour reminders are due
    assert await _deliver(application, clock) == 2 * 3  # each tried three times in all
    assert refusing.collector.refused == 6
    day_before = (await _reminder_rows(application))[:2]
    assert [(status, attempts) for status, attempts, _ in day_before] == [("failed", 3), ("failed", 3)]
    assert all("451 4.7.1 <address>: Greylisted" in (error or "") for _, _, error in day_before)
