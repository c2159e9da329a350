"""A held session becomes a coded charge and an invoice; the client pays it by card through the fake Stripe;
the same Idempotency-Key never charges twice; refunds; overrides are audited; the superbill lists it."""

from __future__ import annotations

import asyncio
import io
import uuid

import asyncpg
import pytest
from pypdf import PdfReader

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import complete, hold_session, set_diagnoses
from tests.integration.payments.fake_stripe import PM_DECLINED, PM_VISA


async def _invoices(api, user) -> list[dict]:
    response = await api.get("/api/v1/invoices", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _charges(api, user) -> list[dict]:
    response = await api.get("/api/v1/charges", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_video_session_from_home_is_coded_invoiced_paid_and_on_the_superbill(api, clock, care, container, fake):
    await set_diagnoses(api, care, ["f411", "F32.0"])
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50}, at_home=True)

    [charge] = await _charges(api, care.therapist)
    assert charge["kind"] == "session" and charge["service_date"] == "2026-12-01"
    coding = charge["coding"]
    assert (coding["procedure"], coding["place_of_service"]) == ("90834-95", "10")
    assert coding["diagnoses"] == ["F41.1", "F32.0"] and coding["psychotherapy_minutes"] == 50
    assert charge["amount"] == {"amount_minor": 15000, "currency": "USD"}

    [invoice] = await _invoices(api, care.client)
    assert invoice["status"] == "open" and invoice["amount"]["amount_minor"] == 15000
    assert invoice["coding"] == {"procedure": "90834-95", "place_of_service": "10", "diagnoses": ["F41.1", "F32.0"]}

    paid = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"payment_method_id": PM_VISA},
        headers={**care.client.headers, "Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["invoice"]["status"] == "paid" and paid.json()["invoice"]["amount_paid_minor"] == 15000
    assert len(fake.charges) == 1 and fake.charges[0]["amount"] == 15000
    # Nothing clinical reaches the provider: only the amount, the currency and the invoice id.
    sent = dict(fake.requests[-1].pairs)
    assert sent["metadata[invoice_id]"] == invoice["id"]
    assert not any("F41" in value or "9083" in value for _, value in fake.requests[-1].pairs)

    pdf = await api.get(
        f"/api/v1/clients/{care.client.id}/superbill",
        params={"from": "2026-12-01", "to": "2026-12-31"},
        headers=care.client.headers,
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("Sam Client", "1990-04-02", "Dr. Dana Reyes", "1234567893", "12-3456789", "US-NY", "2026-12-01"):
        assert expected in text, expected
    assert "90834" in text and "95" in text and "F41.1, F32.0" in text
    assert text.count("USD 150.00") == 4, text  # the line's fee and paid, and both totals
    # Uncompressed, so the codes are findable in the raw file too (the SPA's Playwright test reads it so).
    assert b"(90834)" in pdf.content and b"(USD 150.00)" in pdf.content


async def test_completing_twice_makes_one_charge(api, clock, care, container):
    await hold_session(api, clock, care)
    first = await complete(container, care, {Modality.VIDEO: 50})
    second = await complete(container, care, {Modality.AUDIO: 20})
    assert first.charge.id == second.charge.id
    assert len(await _charges(api, care.therapist)) == 1
    assert len(await _invoices(api, care.client)) == 1


async def test_coding_follows_the_real_minutes_and_the_price_what_was_booked(api, clock, care, container):
    await hold_session(api, clock, care)
    # Stepped down: 20 minutes of video, then 25 on the phone -> 45 voice minutes, mostly audio-only.
    view = await complete(container, care, {Modality.VIDEO: 20, Modality.PHONE: 25}, at_home=False)
    assert view.coding.procedure == "90834-93" and view.coding.place_of_service == "02"
    assert view.coding.diagnoses == ()  # none entered yet: the therapist adds them by override
    assert view.charge.amount.amount_minor == 15000  # booked 50 minutes of video


async def test_a_brief_connection_is_a_check_in_at_the_check_in_rate(api, clock, care, container):
    await hold_session(api, clock, care)
    view = await complete(container, care, {Modality.AUDIO: 12}, at_home=None)
    assert view.coding.cpt == "G2251" and view.coding.modifier is None and view.coding.place_of_service == "02"
    assert view.charge.amount.amount_minor == 3000


@pytest.mark.parametrize("minutes", [{}, {Modality.VIDEO: 0}])
async def test_no_connected_minute_charges_nothing_and_invoices_nothing(api, clock, care, container, minutes):
    await set_diagnoses(api, care, ["F41.1"])
    await hold_session(api, clock, care)
    view = await complete(container, care, minutes)
    assert view.coding.cpt is None and view.coding.basis.value == "not_billable"
    assert view.charge.amount.amount_minor == 0 and view.invoice is None
    [charge] = await _charges(api, care.therapist)
    assert charge["amount"]["amount_minor"] == 0
    assert await _invoices(api, care.client) == []


async def test_the_same_idempotency_key_never_charges_twice(api, clock, care, container, fake):
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = await _invoices(api, care.client)
    url = f"/api/v1/invoices/{invoice['id']}/payments"
    headers = {**care.client.headers, "Idempotency-Key": "same-key"}
    first = await api.post(url, json={"payment_method_id": PM_VISA}, headers=headers)
    again = await api.post(url, json={"payment_method_id": PM_VISA}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert len(fake.charges) == 1
    reused = await api.post(url, json={"payment_method_id": PM_DECLINED}, headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    other_key = await api.post(
        url, json={"payment_method_id": PM_VISA}, headers={**care.client.headers, "Idempotency-Key": "other"}
    )
    assert other_key.status_code == 409 and other_key.json()["code"] == "already_paid"
    assert len(fake.charges) == 1
    intents = [r for r in fake.requests if r.path == "/v1/payment_intents"]
    assert len(intents) == 1


async def test_a_decline_then_another_card(api, clock, care, container, fake):
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = await _invoices(api, care.client)
    url = f"/api/v1/invoices/{invoice['id']}/payments"
    declined = await api.post(url, json={"payment_method_id": PM_DECLINED}, headers=care.client.headers)
    assert declined.status_code == 402 and declined.json()["code"] == "payment_declined"
    got = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert got["status"] == "payment_failed" and got["failure_code"] == "generic_decline"
    paid = await api.post(url, json={"payment_method_id": PM_VISA}, headers=care.client.headers)
    assert paid.status_code == 201 and paid.json()["invoice"]["status"] == "paid"
    assert len(fake.charges) == 1
    keys = [r.idempotency_key for r in fake.requests if r.path == "/v1/payment_intents"]
    assert len(keys) == 2 and keys[0] != keys[1], "a new attempt after a decline uses a new provider key"


async def _paid_invoice(api, clock, care, container) -> dict:
    """A held session's invoice, paid by the client's card."""
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = await _invoices(api, care.client)
    paid = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments", json={"payment_method_id": PM_VISA}, headers=care.client.headers
    )
    assert paid.status_code == 201, paid.text
    return invoice


async def test_refunds_in_part_then_the_rest(api, clock, care, container, fake):
    invoice = await _paid_invoice(api, clock, care, container)
    url = f"/api/v1/invoices/{invoice['id']}/refunds"
    by_client = await api.post(url, json={"amount_minor": 5000}, headers=care.client.headers)
    assert by_client.status_code == 403
    headers = {**care.therapist.headers, "Idempotency-Key": "refund-1"}
    part = await api.post(url, json={"amount_minor": 5000}, headers=headers)
    assert part.status_code == 201, part.text
    assert part.json()["status"] == "partially_refunded" and part.json()["amount_refunded_minor"] == 5000
    replay = await api.post(url, json={"amount_minor": 5000}, headers=headers)
    assert replay.json() == part.json() and len(fake.refunds_made) == 1
    too_much = await api.post(url, json={"amount_minor": 10001}, headers=care.therapist.headers)
    assert too_much.status_code == 422 and too_much.json()["code"] == "refund_too_large"
    rest = await api.post(url, json={}, headers=care.therapist.headers)
    assert rest.status_code == 201 and rest.json()["status"] == "refunded"
    assert [r["amount"] for r in fake.refunds_made] == [5000, 10000]


async def test_a_refund_retried_after_its_answer_was_lost_is_made_once(api, clock, care, container, fake):
    # Stripe made the refund, every answer was lost (503 to the therapist), its webhook recorded it; the therapist
    # then retries with the same Idempotency-Key: the provider must see the same key, not a "second refund" one.
    invoice = await _paid_invoice(api, clock, care, container)
    url = f"/api/v1/invoices/{invoice['id']}/refunds"
    headers = {**care.therapist.headers, "Idempotency-Key": "refund-once"}
    fake.lose_next = 3  # the request and both of the gateway's retries
    lost = await api.post(url, json={"amount_minor": 2000}, headers=headers)
    assert lost.status_code == 503, lost.text
    assert [r["amount"] for r in fake.refunds_made] == [2000]
    for event in fake.events_of("charge.refunded") + fake.events_of("refund.created"):
        payload, signature = fake.signed(event)
        delivered = await api.post(
            "/api/v1/payments/stripe/webhook",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        assert delivered.status_code == 200, delivered.text
    retried = await api.post(url, json={"amount_minor": 2000}, headers=headers)
    assert retried.status_code == 201, retried.text
    assert [r["amount"] for r in fake.refunds_made] == [2000], "refunded once"
    assert retried.json()["amount_refunded_minor"] == 2000


async def test_an_override_changes_the_coding_with_a_reason_and_is_audited(api, clock, care, container, database_url):
    await set_diagnoses(api, care, ["F41.1"])
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [charge] = await _charges(api, care.therapist)
    url = f"/api/v1/charges/{charge['id']}/coding-overrides"
    no_reason = await api.post(url, json={"reason": " ", "cpt": "90837"}, headers=care.therapist.headers)
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    by_client = await api.post(url, json={"reason": "x", "cpt": "90837"}, headers=care.client.headers)
    assert by_client.status_code == 403
    other = await api.post(
        url,
        json={"reason": "x", "cpt": "90837"},
        headers=(await _other_therapist(api)).headers,
    )
    assert other.status_code == 404
    changed = await api.post(
        url,
        json={"reason": "Ran 55 minutes", "cpt": "90837", "diagnoses": ["F41.1", "Z63.0"]},
        headers=care.therapist.headers,
    )
    assert changed.status_code == 200, changed.text
    coding = changed.json()["coding"]
    assert coding["procedure"] == "90837-95" and coding["diagnoses"] == ["F41.1", "Z63.0"]
    assert [(o["field"], o["previous"], o["new"]) for o in coding["overrides"]] == [
        ("cpt", "90834", "90837"),
        ("diagnoses", "F41.1", "F41.1,Z63.0"),
    ]
    assert {o["reason"] for o in coding["overrides"]} == {"Ran 55 minutes"}
    same = await api.post(url, json={"reason": "again", "cpt": "90837"}, headers=care.therapist.headers)
    assert same.status_code == 422 and same.json()["code"] == "nothing_to_override"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT action, actor_id FROM audit_events WHERE object_id = $1 ORDER BY seq", charge["id"]
        )
        sealed = await conn.fetchval("SELECT coding FROM billing_charges WHERE id = $1", uuid.UUID(charge["id"]))
    finally:
        await conn.close()
    overrides = [r for r in rows if r["action"].startswith("billing.coding.override")]
    assert [r["action"] for r in overrides] == ["billing.coding.override.cpt", "billing.coding.override.diagnoses"]
    assert {str(r["actor_id"]) for r in overrides} == {care.therapist.id}
    assert b"F41.1" not in sealed and b"Ran 55" not in sealed, "diagnoses and reasons are sealed at rest"


async def _other_therapist(api):
    from tests.support.users import signed_up

    return await signed_up(api, "therapist")


async def test_concurrent_payments_with_different_keys_charge_once(api, clock, care, container, fake):
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = await _invoices(api, care.client)
    url = f"/api/v1/invoices/{invoice['id']}/payments"
    responses = await asyncio.gather(
        *[
            api.post(
                url, json={"payment_method_id": PM_VISA}, headers={**care.client.headers, "Idempotency-Key": f"k{i}"}
            )
            for i in range(6)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    assert statuses.count(201) >= 1
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"already_paid"}
    assert len(fake.charges) == 1
    got = (await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.client.headers)).json()
    assert got["status"] == "paid" and got["amount_paid_minor"] == 15000
