"""Answers kept for Idempotency-Key replays hold no private data in plain text: an invoice's coding (diagnoses,
place of service from the check-in) and a payment's client secret are sealed like the records they come from,
and a replay still returns the first answer byte for byte."""

from __future__ import annotations

import asyncpg

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import complete, hold_session, set_diagnoses
from tests.integration.payments.fake_stripe import PM_AUTH_REQUIRED, PM_VISA

# What an invoice's answer carries that Hearth keeps sealed elsewhere (billing_charges.coding,
# client_billing_records), and the names that would give its shape away.
PRIVATE = ("F41.1", "F32.0", "90834", "diagnoses", "place_of_service", "procedure")


async def _dump(database_url: str, table: str) -> list[str]:
    """Every row of `table` as PostgreSQL prints it (bytea as hex): what a database dump would show."""
    conn = await asyncpg.connect(database_url)
    try:
        return [row[0] for row in await conn.fetch(f"SELECT t::text FROM {table} t")]
    finally:
        await conn.close()


async def _invoice(api, clock, care, container) -> dict:
    await set_diagnoses(api, care, ["F41.1", "F32.0"])
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50}, at_home=True)
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    assert invoice["coding"]["diagnoses"] == ["F41.1", "F32.0"] and invoice["coding"]["place_of_service"] == "10"
    return invoice


async def test_a_payment_and_a_refund_are_stored_sealed_and_replay_byte_for_byte(
    api, clock, care, container, database_url
):
    invoice = await _invoice(api, clock, care, container)
    pay_url = f"/api/v1/invoices/{invoice['id']}/payments"
    pay_headers = {**care.client.headers, "Idempotency-Key": "pay-sealed"}
    paid = await api.post(pay_url, json={"payment_method_id": PM_VISA}, headers=pay_headers)
    assert paid.status_code == 201, paid.text
    assert paid.json()["invoice"]["coding"]["diagnoses"] == ["F41.1", "F32.0"]
    refund_url = f"/api/v1/invoices/{invoice['id']}/refunds"
    refund_headers = {**care.therapist.headers, "Idempotency-Key": "refund-sealed"}
    refunded = await api.post(refund_url, json={"amount_minor": 5000}, headers=refund_headers)
    assert refunded.status_code == 201, refunded.text

    rows = await _dump(database_url, "idempotency_keys")
    assert len(rows) == 2
    for row in rows:
        for private in PRIVATE:
            assert private not in row, f"{private!r} in plain text in idempotency_keys"

    paid_again = await api.post(pay_url, json={"payment_method_id": PM_VISA}, headers=pay_headers)
    refunded_again = await api.post(refund_url, json={"amount_minor": 5000}, headers=refund_headers)
    for first, again in ((paid, paid_again), (refunded, refunded_again)):
        assert again.headers.get("idempotent-replayed") == "true"
        assert (again.status_code, again.content) == (first.status_code, first.content)


async def test_a_payments_client_secret_is_not_stored_in_plain_text(api, clock, care, container, database_url):
    invoice = await _invoice(api, clock, care, container)
    url = f"/api/v1/invoices/{invoice['id']}/payments"
    headers = {**care.client.headers, "Idempotency-Key": "pay-3ds"}
    first = await api.post(url, json={"payment_method_id": PM_AUTH_REQUIRED}, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["client_secret"]
    assert secret and first.json()["requires_action"]
    [row] = await _dump(database_url, "idempotency_keys")
    assert secret not in row and "F41.1" not in row
    again = await api.post(url, json={"payment_method_id": PM_AUTH_REQUIRED}, headers=headers)
    assert again.content == first.content and again.headers.get("idempotent-replayed") == "true"
