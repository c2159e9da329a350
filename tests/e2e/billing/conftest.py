"""Billing tests: the real app wired to a local fake of Stripe's API (tests/integration/payments/fake_stripe.py),
a therapist with rates, a client with a booked 50-minute video session, and helpers to hold the session."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from domain.scheduling.model import Modality
from tests.integration.payments.fake_stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.sessions import attend
from tests.support.users import LoggedIn, relogin, signed_up

WEBHOOK = "/api/v1/payments/stripe/webhook"
START = "2026-12-01T15:00:00Z"  # 10:00 in New York, the therapist's zone
RATES = {
    "currency": "USD",
    "rates": [
        {"minutes": 50, "modality": None, "amount_minor": 15000},
        {"minutes": 50, "modality": "phone", "amount_minor": 12000},
        {"minutes": 30, "modality": None, "amount_minor": 9000},
    ],
    "check_in_amount_minor": 3000,
    "sliding_scale": [],
    "invoice_schedule": "per_charge",
    "npi": "1234567893",
    "tax_id": "12-3456789",
}


@pytest.fixture
async def stripe(clock):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    fake = FakeStripe(clock=clock)
    async with serve(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def app(settings, clock, stripe):
    configured = settings.model_copy(
        update={
            "payments_backend": "stripe",
            "stripe_secret_key": SecretStr(SECRET_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_publishable_key": PUBLISHABLE_KEY,
            "stripe_base_url": stripe[1],
            "platform_fee_percent_bp": 300,
        }
    )
    application = create_app(configured, clock=clock)
    async with serve(application) as url:
        yield application, url


@pytest.fixture
async def api(app):
    async with httpx.AsyncClient(base_url=app[1], timeout=30) as client:
        yield client


async def deliver(api, fake: FakeStripe, event: dict, **signing) -> httpx.Response:
    """Stripe delivering `event` to Hearth's webhook, signed (`secret`, `timestamp`: see `FakeStripe.signed`)."""
    payload, signature = fake.signed(event, **signing)
    return await api.post(
        WEBHOOK, content=payload, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )


@pytest.fixture
def fake(stripe) -> FakeStripe:
    return stripe[0]


@pytest.fixture
def container(app):
    return app[0].state.container


@dataclass
class Care:
    therapist: LoggedIn
    client: LoggedIn
    appointment: dict


async def put_rates(api, therapist: LoggedIn, **overrides) -> dict:
    current = await api.get("/api/v1/therapists/me/billing-settings", headers=therapist.headers)
    assert current.status_code == 200, current.text
    response = await api.put(
        "/api/v1/therapists/me/billing-settings",
        json={**RATES, **overrides},
        headers={**therapist.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def put_policy(api, therapist: LoggedIn, **body) -> dict:
    current = await api.get(f"/api/v1/therapists/{therapist.id}/cancellation-policy", headers=therapist.headers)
    tag = current.headers["etag"] if current.status_code == 200 else '"v0"'
    response = await api.put(
        "/api/v1/therapists/me/cancellation-policy",
        json={"window_hours": 24, **body},
        headers={**therapist.headers, "If-Match": tag},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def book(api, therapist: LoggedIn, client: LoggedIn, start: str = START, **extra) -> dict:
    response = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": therapist.id, "start": start, "duration_minutes": 50, "modality": "video", **extra},
        headers=client.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def set_diagnoses(api, care: Care, codes: list[str], born: str | None = "1990-04-02") -> dict:
    current = await api.get(f"/api/v1/clients/{care.client.id}/billing-record", headers=care.therapist.headers)
    assert current.status_code == 200, current.text
    response = await api.put(
        f"/api/v1/clients/{care.client.id}/billing-record",
        json={"diagnoses": codes, "date_of_birth": born},
        headers={**care.therapist.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def hold_session(api, clock, care: Care, at: datetime = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) -> None:
    """Move the clock to the session and have both attend it: it is in progress, and the tests bill it with the
    minutes they choose (`complete`). Ending it, or marking it completed, would bill the minutes really connected."""
    clock.set(at)
    await relogin(api, care.therapist, care.client)
    await attend(api, care.appointment["id"], care.therapist, care.client)
    appointment = await api.get(f"/api/v1/appointments/{care.appointment['id']}", headers=care.therapist.headers)
    assert appointment.json()["status"] == "in_progress", appointment.text


async def complete(container, care: Care, minutes: Mapping[Modality, int], *, at_home: bool | None = True) -> object:
    return await container.billing.record_completed_session(
        uuid.UUID(care.appointment["id"]), minutes, at_home, container.clock.now()
    )


@pytest.fixture
async def care(api) -> Care:
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    await put_rates(api, therapist)
    client = await signed_up(api, "client", display_name="Sam Client")
    return Care(therapist, client, await book(api, therapist, client))
