"""Clinical tests: a therapist, a client in care with them (a booked session), a real SMTP server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from api.main import create_app
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.smtp_server import smtp_server
from tests.support.users import LoggedIn, signed_up


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
async def app(settings, clock, smtp):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    configured = settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            # A refused email's job is retried within the same `run_jobs`, not 30 real seconds later.
            "jobs_retry_initial_seconds": 0,
        }
    )
    application = create_app(configured, clock=clock)
    async with serve(application) as url:
        yield application, url


@pytest.fixture
async def api(app):
    async with httpx.AsyncClient(base_url=app[1], timeout=30) as client:
        yield client


async def run_jobs(app, clock) -> int:
    """Run the background jobs due now (tests run no worker of their own); returns the handler runs made."""
    return int(await app[0].state.container.worker.drain(until=clock.now()))


@dataclass
class Care:
    therapist: LoggedIn
    client: LoggedIn
    appointment: dict


async def in_care(api) -> Care:
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client", display_name="Sam Client")
    booked = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": therapist.id,
            "start": "2026-12-01T15:00:00Z",
            "duration_minutes": 50,
            "modality": "video",
        },
        headers=client.headers,
    )
    assert booked.status_code == 201, booked.text
    return Care(therapist, client, booked.json())


@pytest.fixture
async def care(api) -> Care:
    return await in_care(api)
