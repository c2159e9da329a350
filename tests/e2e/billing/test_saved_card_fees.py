"""A client may keep their card (at the provider) when paying; later late-cancellation and no-show fees are
charged to it off-session by a job. Without a saved card, or when the bank declines or wants the client, the fee
invoice waits for the client to pay on-session."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import book, complete, hold_session, put_policy
from tests.integration.payments.fake_stripe import PM_DECLINED, PM_VISA
from tests.support.users import relogin

LATER = "2026-12-03T15:00:00Z"


async def _pay_session(api, clock, care, container, **body) -> dict:
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    paid = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        json={"payment_method_id": PM_VISA, **body},
        headers=care.client.headers,
    )
    assert paid.status_code == 201, paid.text
    return paid.json()


async def _no_show(api, clock, care, container) -> dict:
    clock.set(datetime(2026, 12, 3, 16, 0, tzinfo=UTC))
    await relogin(api, care.therapist, care.client)
    later = [a for a in (await api.get("/api/v1/appointments", headers=care.client.headers)).json()["items"]]
    target = next(a for a in later if a["start"] == "2026-12-03T15:00:00Z")
    marked = await api.post(
        f"/api/v1/appointments/{target['id']}/status", json={"status": "no_show"}, headers=care.therapist.headers
    )
    assert marked.status_code == 200, marked.text
    await container.worker.drain(until=clock.now())
    invoices = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    return next(i for i in invoices if i["kind"] == "no_show")


async def test_a_saved_card_pays_the_no_show_fee_off_session(api, clock, care, container, fake):
    await put_policy(api, care.therapist, no_show={"flat_amount_minor": 6000})
    await book(api, care.therapist, care.client, LATER, policy_version=1)
    await _pay_session(api, clock, care, container, save_for_fees=True)
    [customer_call] = [r for r in fake.requests if r.path == "/v1/customers"]
    assert dict(customer_call.pairs) == {"metadata[client_id]": care.client.id}, "only the client id is sent"
    saved = dict(fake.requests[-1].pairs)
    assert saved["setup_future_usage"] == "off_session" and saved["customer"].startswith("cus_")

    fee = await _no_show(api, clock, care, container)
    assert fee["status"] == "paid" and fee["amount_paid_minor"] == 6000
    off_session = dict(fake.requests[-1].pairs)
    assert off_session["off_session"] == "true" and off_session["payment_method"] == PM_VISA
    assert off_session["customer"] == saved["customer"] and off_session["amount"] == "6000"
    assert [c["amount"] for c in fake.charges] == [15000, 6000]
    # The job ran once; draining again charges nothing more.
    await container.worker.drain(until=clock.now())
    assert len(fake.charges) == 2


async def test_without_a_saved_card_the_fee_waits_for_the_client(api, clock, care, container, fake):
    await put_policy(api, care.therapist, no_show={"flat_amount_minor": 6000})
    await book(api, care.therapist, care.client, LATER, policy_version=1)
    await _pay_session(api, clock, care, container)
    fee = await _no_show(api, clock, care, container)
    assert fee["status"] == "open"
    assert [c["amount"] for c in fake.charges] == [15000]
    assert not [r for r in fake.requests if r.path == "/v1/customers"]


async def test_a_declined_saved_card_leaves_the_fee_to_pay_on_session(api, clock, care, container, fake, database_url):
    await put_policy(api, care.therapist, no_show={"flat_amount_minor": 6000})
    await book(api, care.therapist, care.client, LATER, policy_version=1)
    await _pay_session(api, clock, care, container, save_for_fees=True)
    # The saved card has since been blocked by the bank.
    conn = await asyncpg.connect(database_url)
    try:
        customer = await conn.fetchval(
            "UPDATE billing_payment_profiles SET payment_method_id = $2 WHERE client_id = $1 RETURNING customer_id",
            uuid.UUID(care.client.id),
            PM_DECLINED,
        )
    finally:
        await conn.close()
    fake.customers[customer].add(PM_DECLINED)
    fee = await _no_show(api, clock, care, container)
    assert fee["status"] == "payment_failed" and fee["failure_code"] == "generic_decline"
    paid = await api.post(
        f"/api/v1/invoices/{fee['id']}/payments", json={"payment_method_id": PM_VISA}, headers=care.client.headers
    )
    assert paid.status_code == 201 and paid.json()["invoice"]["status"] == "paid"
    assert [c["amount"] for c in fake.charges] == [15000, 6000]
