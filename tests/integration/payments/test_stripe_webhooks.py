"""Stripe webhooks: signature verification exactly as Stripe specifies, replay tolerance, and idempotent
processing of real fake-Stripe events through the domain's invoice state machine."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime

import pytest

from domain.billing import invoices as inv
from domain.billing.coding import code_session
from domain.billing.errors import InvalidWebhook
from domain.billing.invoices import EventOutcome, InvoiceStatus
from domain.billing.ports import PaymentEventKind, RefundReason
from domain.scheduling.model import Modality, Money
from infra.payments.stripe import sign_payload, verify_signature
from tests.integration.payments.fake_stripe import CUSTOMER, PM_DECLINED, PM_VISA

ISSUED = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def open_invoice(amount: int = 14000) -> inv.Invoice:
    coding = code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=["F41.1"])
    charge = inv.session_charge(
        appointment_id=uuid.uuid4(), service_date=date(2026, 3, 9), price=Money(amount, "USD"), coding=coding
    )
    draft = inv.new_invoice(
        id=uuid.uuid4(),
        practice_id=uuid.uuid4(),
        therapist_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        charge=charge,
        created_at=ISSUED,
    )
    return inv.start_payment_attempt(inv.issue(draft, at=ISSUED))


async def client_pays_on_session(fake, gateway, invoice: inv.Invoice, *cards: str) -> inv.Invoice:
    intent = await gateway.create_payment_intent(
        inv.payment_request(invoice, customer_id=CUSTOMER), idempotency_key=inv.payment_idempotency_key(invoice)
    )
    invoice = inv.record_intent(invoice, intent, at=ISSUED)
    for card in cards:  # what Stripe.js does in the client's browser
        fake.confirm(intent.payment_id, card)
    return invoice


# ---------------------------------------------------------------------------------------------- signatures


async def test_a_correctly_signed_event_is_parsed(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_VISA)
    (succeeded,) = fake.events_of("payment_intent.succeeded")

    event = gateway.parse_webhook(*fake.signed(succeeded))

    assert event is not None
    assert event.event_id == succeeded["id"]
    assert event.kind is PaymentEventKind.SUCCEEDED
    assert event.payment_id == invoice.payment_id
    assert event.amount == Money(14000, "USD")
    assert event.invoice_id == invoice.id
    assert event.occurred_at == datetime.fromtimestamp(succeeded["created"], UTC)
    assert (event.customer_id, event.payment_method_id) == (CUSTOMER, PM_VISA)
    assert event.keeps_method_off_session is False


async def test_a_payment_that_keeps_its_card_off_session_says_so_with_its_customer_and_card(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    request = inv.payment_request(open_invoice(), customer_id=CUSTOMER)
    await gateway.pay_with_method(request, payment_method_id=PM_VISA, idempotency_key="keep", save_for_fees=True)
    (succeeded,) = fake.events_of("payment_intent.succeeded")

    event = gateway.parse_webhook(*fake.signed(succeeded))

    assert event is not None and event.keeps_method_off_session is True
    assert (event.customer_id, event.payment_method_id) == (CUSTOMER, PM_VISA)
    on_session = {**succeeded, "data": {"object": {**succeeded["data"]["object"], "setup_future_usage": "on_session"}}}
    parsed = gateway.parse_webhook(*fake.signed(on_session))
    assert parsed is not None and parsed.keeps_method_off_session is False
    without = {
        **succeeded,
        "data": {"object": {**succeeded["data"]["object"], "customer": None, "payment_method": None}},
    }
    parsed = gateway.parse_webhook(*fake.signed(without))
    assert parsed is not None and (parsed.customer_id, parsed.payment_method_id) == (None, None)


def test_signature_is_hmac_sha256_of_timestamp_dot_body_keyed_with_the_secret():
    body = b'{"id": "evt_1", "object": "event"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign_payload(body, secret="whsec_k", timestamp=1700000000) == expected
    assert verify_signature(body, f"t=1700000000,v1={expected}", secret="whsec_k", now=1700000000, tolerance=300) == (
        1700000000
    )


async def test_a_tampered_body_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    await client_pays_on_session(fake, gateway, open_invoice(), PM_VISA)
    payload, header = fake.signed(fake.events_of("payment_intent.succeeded")[0])
    tampered = payload.replace(b'"amount_received": 14000', b'"amount_received": 1')
    assert tampered != payload
    with pytest.raises(InvalidWebhook) as caught:
        gateway.parse_webhook(tampered, header)
    assert caught.value.code == "bad_signature"


async def test_a_bad_signature_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    payload, header = fake.signed(fake_event())
    t = header.split(",")[0]
    with pytest.raises(InvalidWebhook):
        make_gateway().parse_webhook(payload, f"{t},v1={'0' * 64}")


async def test_an_event_signed_with_another_secret_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    payload, header = fake.signed(fake_event(), secret="whsec_someone_elses_endpoint")
    with pytest.raises(InvalidWebhook) as caught:
        make_gateway().parse_webhook(payload, header)
    assert caught.value.code == "bad_signature"


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=1773068400", "v1=abc", "t=abc,v1=abc", "t=1773068400,v0=abc", "t=-1,v1=abc"],
)
async def test_malformed_signature_headers_are_rejected(stripe, make_gateway, header):
    with pytest.raises(InvalidWebhook):
        make_gateway().parse_webhook(json.dumps(fake_event()).encode(), header)


async def test_one_matching_v1_among_several_is_accepted_while_secrets_roll(stripe, make_gateway):
    fake, _ = stripe
    payload, header = fake.signed(fake_event())
    t, v1 = header.split(",")
    rolled = f"{t},v1={'f' * 64},{v1},v0={'e' * 64}"
    assert make_gateway().parse_webhook(payload, rolled) is not None


async def test_a_replay_outside_the_tolerance_is_rejected(stripe, make_gateway, stripe_clock):
    fake, _ = stripe
    gateway = make_gateway()
    signed_at = int(stripe_clock.now().timestamp())
    payload, header = fake.signed(fake_event(), timestamp=signed_at)

    stripe_clock.advance(seconds=300)
    assert gateway.parse_webhook(payload, header) is not None  # exactly the tolerance is still fresh
    stripe_clock.advance(seconds=1)
    with pytest.raises(InvalidWebhook) as caught:
        gateway.parse_webhook(payload, header)
    assert caught.value.code == "webhook_expired"


async def test_a_timestamp_far_in_the_future_is_rejected(stripe, make_gateway, stripe_clock):
    fake, _ = stripe
    payload, header = fake.signed(fake_event(), timestamp=int(stripe_clock.now().timestamp()) + 301)
    with pytest.raises(InvalidWebhook):
        make_gateway().parse_webhook(payload, header)


async def test_a_signed_body_that_is_not_an_event_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    payload, header = fake.signed({"hello": "world"})
    with pytest.raises(InvalidWebhook) as caught:
        make_gateway().parse_webhook(payload, header)
    assert caught.value.code == "bad_event"


@pytest.mark.parametrize(
    "body",
    [[], "evt", 7, {"created": 10**20}, {"created": 2**63}, {"data": []}, {"data": {"object": []}}],
    ids=["list", "string", "number", "created-beyond-clock", "created-beyond-int64", "data-list", "object-list"],
)
async def test_a_signed_body_of_the_wrong_shape_is_a_bad_event(stripe, make_gateway, body):
    fake, _ = stripe
    event = {**fake_event(), **body} if isinstance(body, dict) else body
    payload, header = fake.signed(event)  # type: ignore[arg-type]
    with pytest.raises(InvalidWebhook) as caught:
        make_gateway().parse_webhook(payload, header)
    assert caught.value.code == "bad_event"


@pytest.mark.parametrize(
    "fields",
    [
        {"customer": 7},
        {"customer": {"id": "cus_1", "object": "customer"}},
        {"customer": ""},
        {"customer": "cus_1; DROP"},
        {"payment_method": "pm_" + "a" * 253},
        {"payment_method": ["pm_card_visa"]},
        {"setup_future_usage": "forever"},
        {"setup_future_usage": True},
        {"id": "pi_" + "1" * 300},
    ],
    ids=[
        "customer-number",
        "customer-object",
        "customer-empty",
        "customer-not-an-id",
        "method-too-long",
        "method-list",
        "usage-unknown",
        "usage-boolean",
        "payment-id-too-long",
    ],
)
async def test_a_payment_event_with_fields_of_the_wrong_shape_is_a_bad_event(stripe, make_gateway, fields):
    fake, _ = stripe
    event = fake_event()
    event["data"] = {"object": {**event["data"]["object"], **fields}}  # type: ignore[index]
    with pytest.raises(InvalidWebhook) as caught:
        make_gateway().parse_webhook(*fake.signed(event))
    assert caught.value.code == "bad_event"


async def test_events_hearth_does_not_act_on_are_verified_then_ignored(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    await client_pays_on_session(fake, gateway, open_invoice())
    (created,) = fake.events_of("payment_intent.created")
    assert gateway.parse_webhook(*fake.signed(created)) is None
    with pytest.raises(InvalidWebhook):  # still verified first
        gateway.parse_webhook(fake.signed(created)[0], "t=1,v1=" + "0" * 64)


# ---------------------------------------------------------------------------------------------- processing


async def test_the_same_event_twice_changes_nothing(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_VISA)
    assert invoice.status is InvoiceStatus.OPEN  # the client confirmed in the browser; only the webhook tells us
    payload, header = fake.signed(fake.events_of("payment_intent.succeeded")[0])

    first = inv.apply_payment_event(invoice, gateway.parse_webhook(payload, header))
    assert first.outcome is EventOutcome.APPLIED
    assert first.invoice.status is InvoiceStatus.PAID
    assert first.invoice.amount_paid_minor == 14000

    again = inv.apply_payment_event(first.invoice, gateway.parse_webhook(payload, header))
    assert again.outcome is EventOutcome.DUPLICATE
    assert again.invoice is first.invoice


async def test_a_failure_delivered_after_the_success_does_not_unpay(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_DECLINED, PM_VISA)
    (failed,) = fake.events_of("payment_intent.payment_failed")
    (succeeded,) = fake.events_of("payment_intent.succeeded")

    paid = inv.apply_payment_event(invoice, gateway.parse_webhook(*fake.signed(succeeded))).invoice
    late = inv.apply_payment_event(paid, gateway.parse_webhook(*fake.signed(failed)))

    assert late.outcome is EventOutcome.IGNORED
    assert late.invoice.status is InvoiceStatus.PAID
    assert late.invoice.failure_code is None
    assert failed["id"] in late.invoice.processed_events


async def test_events_in_order_fail_then_pay(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_DECLINED, PM_VISA)
    for event in fake.events_of("payment_intent.payment_failed"):
        invoice = inv.apply_payment_event(invoice, gateway.parse_webhook(*fake.signed(event))).invoice
    assert (invoice.status, invoice.failure_code) == (InvoiceStatus.PAYMENT_FAILED, "generic_decline")
    for event in fake.events_of("payment_intent.succeeded"):
        invoice = inv.apply_payment_event(invoice, gateway.parse_webhook(*fake.signed(event))).invoice
    assert invoice.status is InvoiceStatus.PAID


async def test_a_refund_seen_in_the_answer_and_in_its_webhook_counts_once(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_VISA)
    invoice = inv.apply_payment_event(
        invoice, gateway.parse_webhook(*fake.signed(fake.events_of("payment_intent.succeeded")[0]))
    ).invoice

    request = inv.refund_request(invoice, amount=Money(4000, "USD"), reason=RefundReason.REQUESTED_BY_CUSTOMER)
    refund = await gateway.refund(request, idempotency_key=inv.refund_idempotency_key(invoice))
    invoice = inv.record_refund(invoice, refund, at=ISSUED)
    assert (invoice.status, invoice.amount_refunded_minor) == (InvoiceStatus.PARTIALLY_REFUNDED, 4000)

    (created,) = fake.events_of("refund.created")
    result = inv.apply_payment_event(invoice, gateway.parse_webhook(*fake.signed(created)))
    assert result.outcome is EventOutcome.IGNORED
    assert result.invoice.amount_refunded_minor == 4000
    assert len(result.invoice.refunds) == 1


async def test_a_refund_made_in_the_stripe_dashboard_arrives_by_webhook(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    invoice = await client_pays_on_session(fake, gateway, open_invoice(), PM_VISA)
    invoice = inv.apply_payment_event(
        invoice, gateway.parse_webhook(*fake.signed(fake.events_of("payment_intent.succeeded")[0]))
    ).invoice
    # someone refunds everything outside Hearth (no idempotency key of ours, no metadata)
    status, _ = fake._create_refund({"payment_intent": invoice.payment_id}, None)
    assert status == 200

    result = inv.apply_payment_event(invoice, gateway.parse_webhook(*fake.signed(fake.events_of("refund.created")[0])))
    assert result.outcome is EventOutcome.APPLIED
    assert result.invoice.status is InvoiceStatus.REFUNDED
    assert result.invoice.collected == Money(0, "USD")


def fake_event() -> dict[str, object]:
    """A `payment_intent.succeeded` event as Stripe sends it (trimmed to the fields Hearth reads and a few more)."""
    return {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1773068400,
        "data": {
            "object": {
                "id": "pi_3Hearth" + uuid.uuid4().hex[:16],
                "object": "payment_intent",
                "amount": 14000,
                "amount_received": 14000,
                "currency": "usd",
                "metadata": {"invoice_id": str(uuid.uuid4())},
                "status": "succeeded",
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "payment_intent.succeeded",
    }


async def test_a_failure_code_of_an_unexpected_shape_is_dropped_and_the_event_still_counts(stripe, make_gateway):
    # The column holds 100 characters: storing a longer code would fail the webhook's transaction with a 500.
    fake, _ = stripe
    gateway = make_gateway()
    await client_pays_on_session(fake, gateway, open_invoice(), PM_DECLINED)
    (failed,) = fake.events_of("payment_intent.payment_failed")
    parsed = gateway.parse_webhook(*fake.signed(failed))
    assert parsed is not None and parsed.failure_code == "generic_decline"

    obj = failed["data"]["object"]
    for odd in ("x" * 101, "Card Declined!", 42):
        error = {**obj["last_payment_error"], "decline_code": odd}
        event = {**failed, "data": {"object": {**obj, "last_payment_error": error}}}
        parsed = gateway.parse_webhook(*fake.signed(event))
        assert parsed is not None and parsed.kind is PaymentEventKind.FAILED
        assert parsed.failure_code is None
