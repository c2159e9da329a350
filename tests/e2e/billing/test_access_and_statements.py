"""Access: a client sees only their own invoices and superbills, a therapist only their own clients'; 404
otherwise. Statements: gross, platform fee, net and outstanding by month, and their CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from domain.billing.fees import PlatformFeeMode, PlatformFeePlan
from domain.billing.money import Money
from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import Care, book, complete, hold_session, put_rates
from tests.integration.payments.fake_stripe import PM_VISA
from tests.support.scheduling import bookable_therapist
from tests.support.users import relogin, signed_up


async def _paid_session(api, clock, care, container) -> dict:
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    paid = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments", json={"payment_method_id": PM_VISA}, headers=care.client.headers
    )
    assert paid.status_code == 201, paid.text
    return paid.json()["invoice"]


async def test_nobody_else_sees_an_invoice_or_a_superbill(api, clock, care, container):
    invoice = await _paid_session(api, clock, care, container)
    stranger = await signed_up(api, "client")
    other_therapist = await signed_up(api, "therapist")
    await relogin(api, stranger, other_therapist)
    for user in (stranger, other_therapist):
        got = await api.get(f"/api/v1/invoices/{invoice['id']}", headers=user.headers)
        assert got.status_code == 404 and got.json()["code"] == "not_found"
        assert (await api.get("/api/v1/invoices", headers=user.headers)).json()["items"] == []
        bill = await api.get(
            f"/api/v1/clients/{care.client.id}/superbill",
            params={"from": "2026-12-01", "to": "2026-12-31"},
            headers=user.headers,
        )
        assert bill.status_code == 404
    assert (await api.get("/api/v1/charges", headers=other_therapist.headers)).json()["items"] == []
    record = await api.get(f"/api/v1/clients/{care.client.id}/billing-record", headers=other_therapist.headers)
    assert record.status_code == 404
    pay = await api.post(
        f"/api/v1/invoices/{invoice['id']}/payments", json={"payment_method_id": PM_VISA}, headers=stranger.headers
    )
    assert pay.status_code == 404
    refund = await api.post(f"/api/v1/invoices/{invoice['id']}/refunds", json={}, headers=other_therapist.headers)
    assert refund.status_code == 404
    void = await api.post(f"/api/v1/invoices/{invoice['id']}/void", json={}, headers=other_therapist.headers)
    assert void.status_code == 404
    # Route-level roles: clients never list charges; the therapist's own views work.
    assert (await api.get("/api/v1/charges", headers=care.client.headers)).status_code == 403
    mine = await api.get(f"/api/v1/invoices/{invoice['id']}", headers=care.therapist.headers)
    assert mine.status_code == 200
    theirs = await api.get(
        f"/api/v1/clients/{care.client.id}/superbill",
        params={"from": "2026-12-01", "to": "2026-12-31"},
        headers=care.therapist.headers,
    )
    assert theirs.status_code == 200 and theirs.content.startswith(b"%PDF")


async def test_a_client_sees_only_their_own_invoices(api, clock, care, container):
    other = await signed_up(api, "client")
    other_care = Care(care.therapist, other, await book(api, care.therapist, other, "2026-12-01T17:00:00Z"))
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    await hold_session(api, clock, other_care, datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    await complete(container, other_care, {Modality.AUDIO: 30})
    await relogin(api, care.client)
    mine = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    theirs = (await api.get("/api/v1/invoices", headers=other.headers)).json()["items"]
    assert [i["client_id"] for i in mine] == [care.client.id]
    assert [i["client_id"] for i in theirs] == [other.id]
    all_of_them = (await api.get("/api/v1/invoices", headers=care.therapist.headers)).json()["items"]
    assert {i["client_id"] for i in all_of_them} == {care.client.id, other.id}
    own_superbill = await api.get(
        f"/api/v1/clients/{other.id}/superbill",
        params={"from": "2026-12-01", "to": "2026-12-31"},
        headers=care.client.headers,
    )
    assert own_superbill.status_code == 404


async def test_monthly_statement_and_csv(api, clock, care, container):
    await _paid_session(api, clock, care, container)
    # A second session, invoiced but unpaid, in the same month.
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    await relogin(api, care.therapist, care.client)
    second = Care(care.therapist, care.client, await book(api, care.therapist, care.client, "2026-12-02T15:00:00Z"))
    await hold_session(api, clock, second, at=datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    await complete(container, second, {Modality.VIDEO: 30, Modality.PHONE: 5})

    response = await api.get(
        "/api/v1/therapists/me/statements", params={"from": "2026-11", "to": "2027-01"}, headers=care.therapist.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["platform_fee_plan"] == {"mode": "percent_per_invoice", "percent_bp": 300, "monthly": None}
    november, december, january = body["months"]
    assert november["gross"]["amount_minor"] == 0 and january["gross"]["amount_minor"] == 0
    assert december["gross"] == {"amount_minor": 15000, "currency": "USD"}
    assert december["platform_fee"]["amount_minor"] == 450
    assert december["net"]["amount_minor"] == 14550
    assert december["outstanding"]["amount_minor"] == 15000  # the second session's booked price
    assert (december["paid_invoices"], december["outstanding_invoices"]) == (1, 1)

    exported = await api.get(
        "/api/v1/therapists/me/statements.csv",
        params={"from": "2026-12", "to": "2026-12"},
        headers=care.therapist.headers,
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows == [
        {
            "month": "2026-12",
            "currency": "USD",
            "gross_minor": "15000",
            "platform_fee_minor": "450",
            "net_minor": "14550",
            "outstanding_minor": "15000",
            "paid_invoices": "1",
            "outstanding_invoices": "1",
        }
    ]
    bad = await api.get(
        "/api/v1/therapists/me/statements", params={"from": "2027-01", "to": "2026-12"}, headers=care.therapist.headers
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_month"


async def test_a_subscription_plan_is_due_every_month(api, clock, care, container):
    plan = PlatformFeePlan(PlatformFeeMode.MONTHLY_SUBSCRIPTION, monthly=Money(2900, "USD"))
    await container.billing.set_fee_plan(uuid.UUID(care.therapist.practice_id), plan)
    await _paid_session(api, clock, care, container)
    body = (
        await api.get(
            "/api/v1/therapists/me/statements",
            params={"from": "2026-11", "to": "2026-12"},
            headers=care.therapist.headers,
        )
    ).json()
    november, december = body["months"]
    assert november["platform_fee"]["amount_minor"] == 2900 and november["net"]["amount_minor"] == -2900
    assert december["net"]["amount_minor"] == 15000 - 2900


async def test_monthly_invoicing_keeps_drafts_until_issued(api, clock, care, container):
    await put_rates(api, care.therapist, invoice_schedule="monthly")
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    assert (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"] == []
    [draft] = (await api.get("/api/v1/invoices", headers=care.therapist.headers)).json()["items"]
    assert draft["status"] == "draft"
    issued = await api.post("/api/v1/invoices/issue", headers=care.therapist.headers)
    assert [i["status"] for i in issued.json()["issued"]] == ["open"]
    [visible] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    assert visible["id"] == draft["id"]


async def test_sliding_scale_prices_only_the_therapists_own_clients(api, clock, care, container):
    stranger = await signed_up(api, "client")
    current = await api.get("/api/v1/therapists/me/billing-settings", headers=care.therapist.headers)
    body = {k: v for k, v in current.json().items() if k != "version"}
    refused = await api.put(
        "/api/v1/therapists/me/billing-settings",
        json=body | {"sliding_scale": [{"client_id": stranger.id, "minutes": None, "amount_minor": 5000}]},
        headers={**care.therapist.headers, "If-Match": current.headers["etag"]},
    )
    assert refused.status_code == 404
    await put_rates(
        api, care.therapist, sliding_scale=[{"client_id": care.client.id, "minutes": None, "amount_minor": 6000}]
    )
    await hold_session(api, clock, care)
    view = await complete(container, care, {Modality.VIDEO: 50})
    assert view.charge.amount.amount_minor == 6000


async def test_a_therapist_without_rates_gets_a_zero_charge_and_no_invoice(api, clock, container):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    await put_rates(api, therapist, rates=[])
    client = await signed_up(api, "client")
    care = Care(therapist, client, await book(api, therapist, client))
    await hold_session(api, clock, care)
    view = await complete(container, care, {Modality.VIDEO: 50})
    assert view.charge.amount.amount_minor == 0 and view.invoice is None


async def test_monthly_drafts_are_issued_when_the_therapists_month_ends(api, clock, care, container):
    await put_rates(api, care.therapist, invoice_schedule="monthly")
    await hold_session(api, clock, care)
    await complete(container, care, {Modality.VIDEO: 50})
    await container.worker.drain(until=clock.now())
    [draft] = (await api.get("/api/v1/invoices", headers=care.therapist.headers)).json()["items"]
    assert draft["status"] == "draft"
    # December ends at midnight in New York: 05:00 UTC on 1 January.
    clock.set(datetime(2027, 1, 1, 4, 59, tzinfo=UTC))
    await container.worker.drain(until=clock.now())
    await relogin(api, care.therapist, care.client)
    assert (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"] == []
    clock.set(datetime(2027, 1, 1, 5, 0, tzinfo=UTC))
    await container.worker.drain(until=clock.now())
    [issued] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    assert issued["id"] == draft["id"] and issued["status"] == "open"
    assert issued["issued_at"] == "2027-01-01T05:00:00Z"
