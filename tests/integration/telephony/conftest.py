"""A therapist and a client with a session at 15:10 UTC (the clock says 15:00), the app configured for Twilio
voice against a local fake of Twilio served over real HTTP, and the app's webhooks reachable by that fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from tests.integration.telephony.fake_twilio_voice import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, FakeTwilioVoice
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.smtp_server import free_port
from tests.support.users import LoggedIn, relogin, signed_up

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
THERAPIST_PHONE = "+14155550101"
CLIENT_PHONE = "+14155550199"


@pytest.fixture
async def twilio(clock) -> AsyncIterator[tuple[FakeTwilioVoice, str]]:
    fake = FakeTwilioVoice(now=clock.now)
    async with serve(fake.app()) as url:
        try:
            yield fake, url
        finally:
            fake.release()


@pytest.fixture
def overrides() -> dict[str, object]:
    """More settings for the app; a test parametrizes it (e.g. a short Twilio timeout where Twilio never answers)."""
    return {}


@pytest.fixture
async def app(settings, clock, twilio, overrides):
    clock.set(NOW)
    port = free_port()
    configured = settings.model_copy(
        update={
            "public_url": f"http://127.0.0.1:{port}",
            "telephony_backend": "twilio",
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": SecretStr(AUTH_TOKEN),
            "telephony_caller_id": CALLER_ID,
            "twilio_base_url": twilio[1],
            "twilio_timeout_seconds": 5,
            **overrides,
        }
    )
    application = create_app(configured, clock=clock)
    async with serve(application, port=port) as url:
        yield application, url


@pytest.fixture
async def api(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app[1], timeout=30) as client:
        yield client


@dataclass
class Session:
    therapist: LoggedIn
    client: LoggedIn
    appointment: dict
    heard: list[tuple[str, str, datetime]] = field(default_factory=list)

    @property
    def call_path(self) -> str:
        return f"/api/v1/appointments/{self.appointment['id']}/phone-call"


async def book(api, therapist: LoggedIn, client: LoggedIn, start: str, modality: str = "video") -> dict:
    booked = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": therapist.id, "start": start, "duration_minutes": 50, "modality": modality},
        headers=client.headers,
    )
    assert booked.status_code == 201, booked.text
    return booked.json()


async def set_phone(api, user: LoggedIn, phone: str | None) -> httpx.Response:
    return await api.put("/api/v1/me/phone", json={"phone": phone}, headers=user.headers)


@pytest.fixture
async def session(api, app) -> Session:
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client", display_name="Sam Client")
    appointment = await book(api, therapist, client, "2026-11-27T15:10:00Z")
    found = Session(therapist, client, appointment)

    async def listener(appointment_id, status, at) -> None:
        found.heard.append((str(appointment_id), str(status), at))

    app[0].state.container.telephony.add_listener(listener)
    return found


@pytest.fixture
async def with_numbers(api, session: Session) -> Session:
    assert (await set_phone(api, session.therapist, "+1 (415) 555-0101")).json() == {"phone": THERAPIST_PHONE}
    assert (await set_phone(api, session.client, "+1 415 555 0199")).status_code == 200
    return session


async def place(api, session: Session) -> dict:
    response = await api.post(session.call_path, headers=session.therapist.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def current(api, session: Session, who: LoggedIn | None = None) -> dict:
    await relogin(api, session.therapist, session.client)  # the tests move the clock past tokens' 10 minutes
    response = await api.get(session.call_path, headers=(who or session.therapist).headers)
    assert response.status_code == 200, response.text
    return response.json()
