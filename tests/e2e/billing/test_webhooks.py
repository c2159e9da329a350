"""Stripe webhooks: verified by signature over the raw body, replays outside the tolerance refused, and the same
event twice changes nothing."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import WEBHOOK, complete, hold_session
from tests.e2e.billing.conftest import deliver as _deliver
from tests.integration.payments.fake_stripe import PM_VISA, SECRET_KEY


async def _open_invoice(api, clock, care, container) -> dict:
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    response = await api.get("/api/v1/invoices", headers=care.client.headers)
    [invoice] = response.json()["items"]
    return invoice


async def _pay_in_browser(stripe_url: str, invoice: dict) -> dict:
    """What Stripe.js does in the browser with the card form: a PaymentIntent confirmed on Stripe's side,
    which Hearth learns about only from the webhook."""
    async with httpx.AsyncClient(base_url=stripe_url) as stripe:
        response = await stripe.post(
            "/v1/payment_intents",
            data={
                "amount": str(invoice["amount"]["amount_minor"]),
                "currency": "usd",
                "payment_method": PM_VISA,
                "confirm": "true",
                "metadata[invoice_id]": invoice["id"],
            },
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_payment_learnt_from_the_webhook_once_even_when_delivered_twice(
    api, clock, care, container, fake, stripe, database_url
):
    invoice = await _open_invoice(api, clock, care, container)
    await _pay_in_browser(stripe[1], invoice)
    [succeeded] = fake.events_of("payment_intent.succeeded")

    first = await _deliver(api, fake, succeeded)
    assert first.status_code == 200 and first.json() == {"received": True, "outcome": "applied"}
    paid = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert paid["status"] == "paid" and paid["amount_paid_minor"] == 15000

    again = await _deliver(api, fake, succeeded)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    after = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert after == paid
    conn = await asyncpg.connect(database_url)
    try:
        version = await conn.fetchval("SELECT version FROM billing_invoices WHERE id = $1", uuid.UUID(invoice["id"]))
        events = await conn.fetchval("SELECT count(*) FROM billing_provider_events")
    finally:
        await conn.close()
    assert events == 1
    # A third delivery still leaves the row untouched.
    await _deliver(api, fake, succeeded)
    conn = await asyncpg.connect(database_url)
    try:
        assert (
            await conn.fetchval("SELECT version FROM billing_invoices WHERE id = $1", uuid.UUID(invoice["id"]))
            == version
        )
    finally:
        await conn.close()


async def test_events_about_a_payment_already_applied_change_nothing(api, clock, care, container, fake):
    invoice = await _open_invoice(api, clock, care, container)
    paid = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments", json={"payment_method_id": PM_VISA}, headers=care.client.headers
    )
    assert paid.status_code == 201
    [succeeded] = fake.events_of("payment_intent.succeeded")
    response = await _deliver(api, fake, succeeded)
    assert response.json()["outcome"] == "ignored"
    refund = await api.post(
        f"/api/v1/invoices/{invoice['id']}/refunds", json={"amount_minor": 4000}, headers=care.therapist.headers
    )
    assert refund.json()["amount_refunded_minor"] == 4000
    [created] = fake.events_of("refund.created")
    assert (await _deliver(api, fake, created)).json()["outcome"] == "ignored"  # the same refund id
    got = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.therapist.headers)).json()
    assert got["status"] == "partially_refunded" and got["amount_refunded_minor"] == 4000


async def test_a_replay_outside_the_tolerance_and_a_bad_signature_are_refused(
    api, clock, care, container, fake, stripe
):
    invoice = await _open_invoice(api, clock, care, container)
    await _pay_in_browser(stripe[1], invoice)
    [succeeded] = fake.events_of("payment_intent.succeeded")
    now = int(clock.now().timestamp())

    stale = await _deliver(api, fake, succeeded, timestamp=now - 301)
    assert stale.status_code == 400 and stale.json()["code"] == "webhook_expired"
    forged = await _deliver(api, fake, succeeded, secret="whsec_" + "someone else's")
    assert forged.status_code == 400 and forged.json()["code"] == "bad_signature"
    payload, signature = fake.signed(succeeded)
    tampered = json.loads(payload)
    tampered["data"]["object"]["amount_received"] = 1
    changed = await api.post(WEBHOOK, content=json.dumps(tampered), headers={"Stripe-Signature": signature})
    assert changed.status_code == 400
    unsigned = await api.post(WEBHOOK, content=payload)
    assert unsigned.status_code == 400
    still_open = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert still_open["status"] == "open"

    within = await _deliver(api, fake, succeeded, timestamp=now - 299)
    assert within.status_code == 200 and within.json()["outcome"] == "applied"


async def test_a_signed_payment_event_with_a_card_field_of_the_wrong_shape_is_a_bad_event(
    api, clock, care, container, fake, stripe
):
    invoice = await _open_invoice(api, clock, care, container)
    await _pay_in_browser(stripe[1], invoice)
    [succeeded] = fake.events_of("payment_intent.succeeded")
    intent = succeeded["data"]["object"]
    for fields in ({"customer": 7}, {"payment_method": {"id": PM_VISA}}, {"setup_future_usage": "always"}):
        bad = {**succeeded, "data": {"object": {**intent, **fields}}}
        response = await _deliver(api, fake, bad)
        assert response.status_code == 400 and response.json()["code"] == "bad_event", (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    got = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert got["status"] == "open"
    assert (await _deliver(api, fake, succeeded)).json()["outcome"] == "applied"


async def test_an_event_hearth_does_not_act_on_is_acknowledged(api, fake, clock):
    event = {
        "id": "evt_unrelated",
        "object": "event",
        "type": "customer.created",
        "created": int(clock.now().timestamp()),
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    response = await _deliver(api, fake, event)
    assert response.status_code == 200 and response.json()["outcome"] == "not_handled"


async def test_money_that_does_not_add_up_is_kept_for_a_person_not_applied(
    api, clock, care, container, fake, stripe, database_url
):
    invoice = await _open_invoice(api, clock, care, container)
    await _pay_in_browser(stripe[1], {**invoice, "amount": {"amount_minor": 14000, "currency": "USD"}})
    [succeeded] = fake.events_of("payment_intent.succeeded")
    response = await _deliver(api, fake, succeeded)
    assert response.status_code == 200 and response.json()["outcome"] == "conflict"  # no endless redelivery
    again = await _deliver(api, fake, succeeded)
    assert again.json()["outcome"] == "duplicate"
    got = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert got["status"] == "open" and got["amount_paid_minor"] == 0
    conn = await asyncpg.connect(database_url)
    try:
        actions = await conn.fetch(
            "SELECT action, outcome FROM audit_events WHERE object_id = $1 AND action LIKE 'billing.webhook.%'",
            invoice["id"],
        )
    finally:
        await conn.close()
    assert [(a["action"], a["outcome"]) for a in actions] == [("billing.webhook.payment_amount_mismatch", "failure")]
