"""A client may keep their card (at the provider) when paying; later late-cancellation and no-show fees are
charged to it off-session by a job. Without a saved card, or when the bank declines or wants the client, the fee
invoice waits for the client to pay on-session. When the bank makes the client authenticate (3-D Secure) first,
the card is recorded from the webhook saying the payment succeeded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import book, complete, deliver, hold_session, put_policy
from tests.integration.payments.fake_stripe import PM_AUTH_ON_SETUP, PM_DECLINED, PM_VISA
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


# ---------------------------------------------------------------------------------------------- after 3-D Secure

LATE_FEE = {"amount_minor": 6000, "currency": "USD"}


async def _profile(database_url, client_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(
            "SELECT customer_id, payment_method_id, card_kept_at, updated_at FROM billing_payment_profiles "
            "WHERE client_id = $1",
            uuid.UUID(client_id),
        )
    finally:
        await conn.close()


async def _authenticated(api, fake, paid: dict) -> dict:
    """The client completes 3-D Secure in the browser (Stripe.js): the payment's `payment_intent.succeeded`."""
    assert paid["requires_action"] is True and paid["invoice"]["status"] != "paid"
    [intent_id] = [i for i, intent in fake.intents.items() if intent["status"] == "requires_action"]
    status, intent = fake.authenticate(intent_id)
    assert status == 200 and intent["status"] == "succeeded"
    return next(e for e in fake.events_of("payment_intent.succeeded") if e["data"]["object"]["id"] == intent_id)


async def _cancel_late(api, clock, care, appointment: dict, container) -> dict:
    clock.set(datetime(2026, 12, 2, 20, 0, tzinfo=UTC))  # 19 hours before, inside the 24-hour window
    await relogin(api, care.therapist, care.client)
    cancelled = await api.post(
        f"/api/v1/appointments/{appointment['id']}/cancel",
        json={"accept_late_fee": LATE_FEE},
        headers=care.client.headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "late_cancelled", cancelled.text
    await container.worker.drain(until=clock.now())
    invoices = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    return next(i for i in invoices if i["kind"] == "late_cancellation")


async def test_a_card_kept_after_3d_secure_is_recorded_from_the_webhook_and_pays_a_late_fee_off_session(
    api, clock, care, container, fake, database_url
):
    await put_policy(api, care.therapist, late_cancellation={"flat_amount_minor": 6000})
    later = await book(api, care.therapist, care.client, LATER, policy_version=1)
    paid = await _pay_session(api, clock, care, container, payment_method_id=PM_AUTH_ON_SETUP, save_for_fees=True)
    [(customer, method, _, _)] = await _profile(database_url, care.client.id)
    assert customer.startswith("cus_") and method is None  # the customer exists; no card until the payment is done
    succeeded = await _authenticated(api, fake, paid)
    assert succeeded["data"]["object"]["setup_future_usage"] == "off_session"

    delivered = await deliver(api, fake, succeeded)
    assert delivered.status_code == 200 and delivered.json()["outcome"] == "applied"
    assert [tuple(r)[:2] for r in await _profile(database_url, care.client.id)] == [(customer, PM_AUTH_ON_SETUP)]
    session = (await api.get(f"/api/v1/invoices/{paid['invoice']['id']}", headers=care.client.headers)).json()
    assert session["status"] == "paid"

    fee = await _cancel_late(api, clock, care, later, container)
    assert fee["status"] == "paid" and fee["amount_paid_minor"] == 6000
    off_session = dict(fake.requests[-1].pairs)
    assert off_session["off_session"] == "true" and off_session["confirm"] == "true"
    assert (off_session["customer"], off_session["payment_method"]) == (customer, PM_AUTH_ON_SETUP)
    assert [c["amount"] for c in fake.charges] == [15000, 6000]


async def test_without_asking_to_keep_it_a_card_authenticated_with_3d_secure_is_not_recorded(
    api, clock, care, container, fake, database_url
):
    await put_policy(api, care.therapist, late_cancellation={"flat_amount_minor": 6000})
    later = await book(api, care.therapist, care.client, LATER, policy_version=1)
    paid = await _pay_session(api, clock, care, container, payment_method_id=PM_AUTH_ON_SETUP)
    succeeded = await _authenticated(api, fake, paid)
    assert (await deliver(api, fake, succeeded)).json()["outcome"] == "applied"
    assert await _profile(database_url, care.client.id) == []

    fee = await _cancel_late(api, clock, care, later, container)
    assert fee["status"] == "open"
    assert [c["amount"] for c in fake.charges] == [15000]


async def test_a_card_kept_by_a_payment_the_client_did_not_ask_hearth_to_keep_is_not_recorded(
    api, clock, care, container, fake, database_url
):
    """Stripe says the payment kept its card on the client's customer (say it was made from Stripe's dashboard),
    but Hearth's payment did not ask: only the client's request to Hearth keeps a card for fees."""
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    url = f"/api/v1/invoices/{invoice['id']}/payments"
    keep = {"payment_method_id": PM_DECLINED, "save_for_fees": True}
    declined = await api.post(url, json=keep, headers=care.client.headers)
    assert declined.status_code == 402, declined.text
    [(customer, method, kept_at, _)] = await _profile(database_url, care.client.id)
    assert (method, kept_at) == (None, None)  # the customer exists, the declined card was not kept
    paid = await api.post(url, json={"payment_method_id": PM_AUTH_ON_SETUP}, headers=care.client.headers)
    assert paid.status_code == 201, paid.text
    succeeded = await _authenticated(api, fake, paid.json())
    intent = succeeded["data"]["object"]
    assert intent["customer"] is None and intent["setup_future_usage"] is None
    said = {**succeeded, "data": {"object": {**intent, "customer": customer, "setup_future_usage": "off_session"}}}

    assert (await deliver(api, fake, said)).json()["outcome"] == "applied"
    assert [tuple(r)[:3] for r in await _profile(database_url, care.client.id)] == [(customer, None, None)]


async def test_a_replayed_webhook_records_the_card_once(api, clock, care, container, fake, database_url):
    paid = await _pay_session(api, clock, care, container, payment_method_id=PM_AUTH_ON_SETUP, save_for_fees=True)
    succeeded = await _authenticated(api, fake, paid)
    assert (await deliver(api, fake, succeeded)).json()["outcome"] == "applied"
    [first] = await _profile(database_url, care.client.id)
    assert first["payment_method_id"] == PM_AUTH_ON_SETUP
    assert first["card_kept_at"] == datetime.fromtimestamp(succeeded["created"], UTC)

    clock.advance(seconds=60)
    for _ in range(2):
        again = await deliver(api, fake, succeeded)
        assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert await _profile(database_url, care.client.id) == [first]  # one profile, not even its time touched
    conn = await asyncpg.connect(database_url)
    try:
        kept = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'billing.payment_profile.card_kept' AND object_id = $1",
            paid["invoice"]["id"],
        )
    finally:
        await conn.close()
    assert kept == 1


async def test_a_late_webhook_for_an_older_card_does_not_replace_the_card_kept_since(
    api, clock, care, container, fake, database_url
):
    """The newest card the client chose to keep is the one fees go to: a webhook Stripe delivers late (it retries
    for days when Hearth was down) for a card kept earlier does not bring that card back."""
    await put_policy(api, care.therapist, late_cancellation={"flat_amount_minor": 6000})
    later = await book(api, care.therapist, care.client, LATER, policy_version=1)
    paid = await _pay_session(api, clock, care, container, payment_method_id=PM_AUTH_ON_SETUP, save_for_fees=True)
    older = await _authenticated(api, fake, paid)  # kept first, but its webhook is not delivered yet

    fee = await _cancel_late(api, clock, care, later, container)
    assert fee["status"] == "open"  # no card recorded yet
    newer = await api.post(
        f"/api/v1/invoices/{fee['id']}/payments",
        json={"payment_method_id": PM_VISA, "save_for_fees": True},
        headers=care.client.headers,
    )
    assert newer.status_code == 201 and newer.json()["invoice"]["status"] == "paid", newer.text
    [(customer, method, kept_at, _)] = await _profile(database_url, care.client.id)
    assert method == PM_VISA and kept_at == clock.now()

    assert (await deliver(api, fake, older)).json()["outcome"] == "applied"  # the session invoice is paid
    assert [tuple(r)[:3] for r in await _profile(database_url, care.client.id)] == [(customer, PM_VISA, kept_at)]
