"""Voiding an invoice whose card payment is under way: the payment is canceled at the provider first, so the client
can no longer finish 3-D Secure nor be charged for a void invoice; a payment that already went through refuses the
void (the webhook then records it); money that reaches a void invoice anyway is refunded."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import complete, hold_session
from tests.integration.payments.fake_stripe import PM_AUTH_REQUIRED, PM_VISA, SECRET_KEY, FakeStripe

WEBHOOK = "/api/v1/payments/stripe/webhook"


async def _awaiting_authentication(api, clock, care, container, fake: FakeStripe) -> tuple[dict, str]:
    """A held session's invoice which the client is paying with a card whose bank asks for 3-D Secure: the
    invoice is open and the PaymentIntent waits in `requires_action` for the client's browser."""
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    paying = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"payment_method_id": PM_AUTH_REQUIRED},
        headers=care.client.headers,
    )
    assert paying.status_code == 201, paying.text
    assert paying.json()["requires_action"] is True and paying.json()["invoice"]["status"] == "open"
    [intent_id] = [i for i, intent in fake.intents.items() if intent["metadata"]["invoice_id"] == invoice["id"]]
    assert fake.intents[intent_id]["status"] == "requires_action"
    return invoice, intent_id


async def _void(api, care, invoice: dict) -> httpx.Response:
    return await api.post(f"/api/v1/invoices/{invoice['id']}/void", json={}, headers=care.therapist.headers)


async def _get(api, care, invoice: dict) -> dict:
    response = await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.therapist.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _deliver(api, fake: FakeStripe, event: dict) -> httpx.Response:
    payload, signature = fake.signed(event)
    response = await api.post(
        WEBHOOK, content=payload, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response


async def test_voiding_while_the_client_is_asked_to_authenticate_cancels_the_payment(api, clock, care, container, fake):
    invoice, intent_id = await _awaiting_authentication(api, clock, care, container, fake)

    voided = await _void(api, care, invoice)

    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void" and voided.json()["amount_paid_minor"] == 0
    [cancel] = [r for r in fake.requests if r.path.endswith("/cancel")]
    assert (cancel.method, cancel.path) == ("POST", f"/v1/payment_intents/{intent_id}/cancel")
    assert cancel.content_type == "application/x-www-form-urlencoded"
    assert cancel.authorization == f"Bearer {SECRET_KEY}"
    assert cancel.pairs == [("cancellation_reason", "abandoned")]
    assert cancel.idempotency_key and cancel.idempotency_key.startswith(f"hearth-invoice-{invoice['id']}-")
    assert fake.intents[intent_id]["status"] == "canceled"
    # The client finishes 3-D Secure in the browser after the void: Stripe refuses it, nothing is charged.
    status, body = fake.authenticate(intent_id)
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state"
    assert fake.charges == []
    [canceled] = fake.events_of("payment_intent.canceled")
    assert (await _deliver(api, fake, canceled)).json()["outcome"] == "ignored"
    assert (await _get(api, care, invoice))["status"] == "void"


async def test_voiding_a_processing_payment_cancels_it_when_the_provider_still_can(api, clock, care, container, fake):
    invoice, intent_id = await _awaiting_authentication(api, clock, care, container, fake)
    fake.authenticate(intent_id, processing=True)
    [processing] = fake.events_of("payment_intent.processing")
    assert (await _deliver(api, fake, processing)).json()["outcome"] == "applied"
    assert (await _get(api, care, invoice))["status"] == "processing"
    fake.cancel_processing = True  # Stripe stops a processing payment in rare cases

    voided = await _void(api, care, invoice)

    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void"
    assert fake.intents[intent_id]["status"] == "canceled"
    assert fake.settle(intent_id)[0] == 400 and fake.charges == []


async def test_a_processing_payment_the_provider_will_not_stop_keeps_the_invoice(api, clock, care, container, fake):
    invoice, intent_id = await _awaiting_authentication(api, clock, care, container, fake)
    fake.authenticate(intent_id, processing=True)
    [processing] = fake.events_of("payment_intent.processing")
    await _deliver(api, fake, processing)
    before = await _get(api, care, invoice)

    refused = await _void(api, care, invoice)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "payment_in_progress"
    assert await _get(api, care, invoice) == before
    assert fake.intents[intent_id]["status"] == "processing"
    again = await _void(api, care, invoice)
    assert again.status_code == 409 and again.json()["code"] == "payment_in_progress"
    # It goes through in the end, and its webhook records it.
    fake.settle(intent_id)
    [succeeded] = fake.events_of("payment_intent.succeeded")
    assert (await _deliver(api, fake, succeeded)).json()["outcome"] == "applied"
    assert (await _get(api, care, invoice))["status"] == "paid"


async def test_a_payment_that_failed_after_a_refused_void_is_canceled_by_the_next_void(
    api, clock, care, container, fake
):
    invoice, intent_id = await _awaiting_authentication(api, clock, care, container, fake)
    fake.authenticate(intent_id, processing=True)
    [processing] = fake.events_of("payment_intent.processing")
    await _deliver(api, fake, processing)
    assert (await _void(api, care, invoice)).json()["code"] == "payment_in_progress"
    fake.settle(intent_id, declined=True)
    [failed] = fake.events_of("payment_intent.payment_failed")
    await _deliver(api, fake, failed)
    assert (await _get(api, care, invoice))["status"] == "payment_failed"

    # The declined intent could still be paid with another card in the browser: the void cancels it, with a
    # new key (the refusal saved under the first one would be replayed).
    voided = await _void(api, care, invoice)

    assert voided.status_code == 200 and voided.json()["status"] == "void", voided.text
    assert fake.intents[intent_id]["status"] == "canceled"
    first, second = [r.idempotency_key for r in fake.requests if r.path.endswith("/cancel")]
    assert first != second
    assert fake.confirm(intent_id, PM_VISA)[0] == 400 and fake.charges == []


async def test_voiding_after_the_payment_went_through_is_refused_and_the_webhook_records_it(
    api, clock, care, container, fake
):
    invoice, intent_id = await _awaiting_authentication(api, clock, care, container, fake)
    # The client completed 3-D Secure just before the therapist voided; its webhook is still on its way.
    assert fake.authenticate(intent_id)[0] == 200
    before = await _get(api, care, invoice)

    refused = await _void(api, care, invoice)

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "already_paid" and problem["status"] == 409
    assert problem["type"].endswith("/already_paid") and "refund" in problem["detail"].lower()
    assert await _get(api, care, invoice) == before
    assert [c["amount"] for c in fake.charges] == [15000] and fake.refunds_made == []
    [succeeded] = fake.events_of("payment_intent.succeeded")
    assert (await _deliver(api, fake, succeeded)).json()["outcome"] == "applied"
    paid = await _get(api, care, invoice)
    assert paid["status"] == "paid" and paid["amount_paid_minor"] == 15000


async def test_money_that_reaches_an_invoice_voided_meanwhile_is_refunded(
    api, clock, care, container, fake, database_url
):
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    # The client's card is charged while the therapist voids: the void finds no payment to cancel yet.
    fake.slow_next, fake.slow_seconds = 1, 1.0
    paying = asyncio.create_task(
        api.post(
            f"/api/v1/invoices/{invoice['id']}/payments",
            json={"payment_method_id": PM_VISA},
            headers=care.client.headers,
        )
    )
    while not fake.charges:
        await asyncio.sleep(0.02)
    voided = await _void(api, care, invoice)
    assert voided.status_code == 200 and voided.json()["status"] == "void", voided.text
    assert (await paying).status_code == 409
    [succeeded] = fake.events_of("payment_intent.succeeded")
    intent_id = succeeded["data"]["object"]["id"]

    delivered = await _deliver(api, fake, succeeded)

    assert delivered.json()["outcome"] == "refund"
    got = await _get(api, care, invoice)
    assert (got["status"], got["amount_paid_minor"], got["amount_refunded_minor"]) == ("void", 0, 0)
    await container.worker.drain(until=clock.now())
    [refund] = fake.refunds_made
    assert (refund["payment_intent"], refund["amount"]) == (intent_id, 15000)
    assert refund["metadata"] == {"invoice_id": invoice["id"]}
    [refund_call] = [r for r in fake.requests if r.path == "/v1/refunds"]
    assert refund_call.idempotency_key and refund_call.idempotency_key.startswith(f"hearth-invoice-{invoice['id']}-")
    # Its own webhook, a redelivery and another run of the jobs change nothing and refund nothing more.
    [created] = fake.events_of("refund.created")
    assert (await _deliver(api, fake, created)).json()["outcome"] == "ignored"
    assert (await _deliver(api, fake, succeeded)).json()["outcome"] == "duplicate"
    await container.worker.drain(until=clock.now())
    assert len(fake.refunds_made) == 1
    assert (await _get(api, care, invoice)) == got
    conn = await asyncpg.connect(database_url)
    try:
        actions = await conn.fetch(
            "SELECT action, outcome FROM audit_events WHERE object_id = $1 AND action LIKE 'billing.%' ORDER BY seq",
            invoice["id"],
        )
    finally:
        await conn.close()
    assert [(a["action"], a["outcome"]) for a in actions if not a["action"].endswith(".read")] == [
        ("billing.invoice.void", "success"),
        ("billing.webhook.void_invoice_paid", "failure"),
        ("billing.invoice.void_payment_refund", "success"),
    ]
