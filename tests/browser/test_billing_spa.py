"""Runs frontend/e2e/billing.spec.ts in real Chromium against the real app and SPA, with card payments going to a
local fake of Stripe's API (which also delivers its webhooks to the app) and the spec's fake of Stripe.js
(frontend/e2e/fakes) in front of it. The held sessions it needs are seeded here: the live-session work (another
branch) will call `BillingService.record_completed_session` when a session ends; until it is merged this test moves
booked appointments into the past, marks them completed and makes the same call."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from api.main import create_app
from domain.scheduling.model import Modality
from tests.integration.payments.fake_stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.support.clock import FakeClock
from tests.support.playwright import FRONTEND, run_playwright
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.users import PASSWORD, signed_up

NEW_YORK = ZoneInfo("America/New_York")

pytestmark = pytest.mark.browser


async def _seed(api: httpx.AsyncClient, app, database_url: str) -> dict:
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    current = await api.get("/api/v1/therapists/me/billing-settings", headers=therapist.headers)
    saved = await api.put(
        "/api/v1/therapists/me/billing-settings",
        json={
            "currency": "USD",
            "rates": [{"minutes": 50, "modality": None, "amount_minor": 15000}],
            "invoice_schedule": "per_charge",
            "npi": "1234567893",
            "tax_id": "12-3456789",
        },
        headers={**therapist.headers, "If-Match": current.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    client = await signed_up(api, "client", display_name="Sam Client")
    # Two sessions, held an hour ago and two days before (what the live-session work records when each ends):
    # two invoices on two days, one per payment test.
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    held = [now - timedelta(hours=1), now - timedelta(days=2, hours=1)]
    for hour, held_start in zip((10, 11), held, strict=True):
        # Tomorrow in New York, inside the office hours bookable_therapist publishes.
        tomorrow = datetime.now(NEW_YORK).date() + timedelta(days=1)
        start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, tzinfo=NEW_YORK).astimezone(UTC)
        booked = await api.post(
            "/api/v1/appointments",
            json={
                "therapist_id": therapist.id,
                "start": start.isoformat(),
                "duration_minutes": 50,
                "modality": "video",
            },
            headers=client.headers,
        )
        assert booked.status_code == 201, booked.text
        if hour == 10:  # once the client is the therapist's
            record = await api.put(
                f"/api/v1/clients/{client.id}/billing-record",
                json={"diagnoses": ["F41.1"], "date_of_birth": "1990-04-02"},
                headers={**therapist.headers, "If-Match": '"v0"'},
            )
            assert record.status_code == 200, record.text
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "UPDATE appointments SET start_at = $2, end_at = $3, status = 'completed' WHERE id = $1",
                uuid.UUID(booked.json()["id"]),
                held_start,
                held_start + timedelta(minutes=50),
            )
        finally:
            await conn.close()
        view = await app.state.container.billing.record_completed_session(
            uuid.UUID(booked.json()["id"]), {Modality.VIDEO: 50}, True, datetime.now(UTC)
        )
        assert view.coding.procedure == "90834-95" and view.coding.place_of_service == "10"
    person = {"password": PASSWORD}
    return {
        "therapist": {**person, "role": "therapist", "email": therapist.email, "displayName": "Dr. Dana Reyes"},
        "client": {**person, "role": "client", "email": client.email, "displayName": "Sam Client"},
        "client_id": client.id,
        "service_date": held[0].astimezone(NEW_YORK).date().isoformat(),
        "second_service_date": held[1].astimezone(NEW_YORK).date().isoformat(),
    }


class WallClock(FakeClock):
    """The fake Stripe's clock for a browser run: real time, so the webhooks it signs are never stale (the app checks
    their timestamps against its own, real clock)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_billing_spec(settings, database_url):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    fake = FakeStripe(clock=WallClock())
    async with serve(fake.app()) as stripe_url:
        configured = settings.model_copy(
            update={
                "spa_dir": FRONTEND / "dist",
                "payments_backend": "stripe",
                "stripe_secret_key": SecretStr(SECRET_KEY),
                "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
                "stripe_publishable_key": PUBLISHABLE_KEY,
                "stripe_base_url": stripe_url,
            }
        )
        app = create_app(configured)
        async with serve(app) as url:
            fake.webhook_url = f"{url}/api/v1/payments/stripe/webhook"  # the provider settles 3-D Secure payments
            # As from Stripe, a moment after its answers: the page must wait for the outcome, not read the invoice as
            # it stood before (a payment retried after a decline once showed "failed" until the webhook came).
            fake.webhook_delay = 2.0
            async with httpx.AsyncClient(base_url=url, timeout=30) as api:
                seed = await _seed(api, app, database_url)
            # Seeded here, so no test of the spec may skip.
            seed["stripe_api"] = stripe_url  # where the spec's fake Stripe.js sends what it asks api.stripe.com
            await run_playwright(url, ["e2e/billing.spec.ts"], {"HEARTH_BILLING_SEED": json.dumps(seed)}, timeout=600)
    assert [c["amount"] for c in fake.charges] == [15000, 15000], "both card payments went through the provider"
    made = set(fake.payment_methods)  # every card the spec paid with became a PaymentMethod through Stripe.js
    paid_with = [dict(r.pairs).get("payment_method") for r in fake.requests if r.path == "/v1/payment_intents"]
    assert paid_with and set(paid_with) <= made, "only PaymentMethods made in the browser reached the provider"
    kept = [r for r in fake.requests if r.path == "/v1/payment_intents"][-1]
    assert dict(kept.pairs)["setup_future_usage"] == "off_session", "the client chose to keep the card for fees"
    assert all(status == 200 for _, status in fake.delivered), "every webhook was accepted"
    assert {e["type"] for e in fake.events} >= {"payment_intent.requires_action", "payment_intent.payment_failed"}
