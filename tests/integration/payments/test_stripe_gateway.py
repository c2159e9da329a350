"""StripeGateway against a local fake of Stripe's API served over real HTTP: requests, idempotency, errors,
refunds."""

from __future__ import annotations

import uuid

import pytest

from domain.billing.errors import (
    IdempotencyKeyReused,
    PaymentActionRequired,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from domain.billing.ports import IntentStatus, PaymentRequest, RefundReason, RefundRequest, RefundStatus
from domain.scheduling.model import Money
from infra.payments.stripe import StripeConfig, StripeGateway
from tests.integration.payments.conftest import config
from tests.integration.payments.fake_stripe import (
    CUSTOMER,
    OTHER_CUSTOMER,
    PM_AUTH_REQUIRED,
    PM_DECLINED,
    PM_INSUFFICIENT,
    PM_VISA,
    SECRET_KEY,
    WEBHOOK_SECRET,
)
from tests.support.clock import FakeClock
from tests.support.smtp_server import free_port

INVOICE = uuid.UUID("00000000-0000-0000-0000-00000000e001")
FEE = PaymentRequest(invoice_id=INVOICE, amount=Money(5000, "USD"), customer_id=CUSTOMER)


async def charge(gateway: StripeGateway, *, key: str = "key-1", method: str = PM_VISA, request=FEE):
    return await gateway.charge_saved_method(
        request, customer_id=CUSTOMER, payment_method_id=method, idempotency_key=key
    )


async def test_payment_intent_for_the_client_is_the_request_stripe_expects(stripe, make_gateway):
    fake, _ = stripe
    intent = await make_gateway().create_payment_intent(FEE, idempotency_key="hearth-invoice-1-payment-1")

    (req,) = fake.requests
    assert (req.method, req.path) == ("POST", "/v1/payment_intents")
    assert req.content_type == "application/x-www-form-urlencoded"
    assert req.authorization == f"Bearer {SECRET_KEY}"
    assert req.idempotency_key == "hearth-invoice-1-payment-1"
    assert sorted(req.pairs) == sorted(
        [
            ("amount", "5000"),
            ("currency", "usd"),
            ("customer", CUSTOMER),
            ("metadata[invoice_id]", str(INVOICE)),
            ("payment_method_types[0]", "card"),
        ]
    )
    assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
    assert intent.payment_id in fake.intents
    assert intent.client_secret == fake.intents[intent.payment_id]["client_secret"]
    assert intent.amount == Money(5000, "USD")
    assert intent.invoice_id == INVOICE
    assert fake.charges == []  # nothing is charged until the client confirms


async def test_fee_with_saved_card_confirms_off_session_and_charges(stripe, make_gateway):
    fake, _ = stripe
    intent = await charge(make_gateway())

    pairs = dict(fake.requests[0].pairs)
    assert pairs["confirm"] == "true" and pairs["off_session"] == "true"
    assert pairs["customer"] == CUSTOMER and pairs["payment_method"] == PM_VISA
    assert intent.status is IntentStatus.SUCCEEDED
    assert intent.amount_received_minor == 5000
    assert [c["payment_intent"] for c in fake.charges] == [intent.payment_id]


async def test_the_same_idempotency_key_never_charges_twice(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    first = await charge(gateway, key="hearth-invoice-9-payment-1")
    again = await charge(gateway, key="hearth-invoice-9-payment-1")

    assert again == first
    assert len(fake.requests) == 2
    assert len(fake.charges) == 1
    assert len(fake.intents) == 1
    # a different key is a different payment
    other = await charge(gateway, key="hearth-invoice-9-payment-2")
    assert other.payment_id != first.payment_id
    assert len(fake.charges) == 2


async def test_the_same_key_with_other_parameters_is_refused(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    await charge(gateway, key="k")
    changed = PaymentRequest(invoice_id=INVOICE, amount=Money(5100, "USD"), customer_id=CUSTOMER)
    with pytest.raises(IdempotencyKeyReused) as caught:
        await charge(gateway, key="k", request=changed)
    assert caught.value.code == "idempotency_key_reused"
    assert "same parameters" in str(caught.value)
    assert len(fake.charges) == 1


async def test_a_lost_answer_is_retried_with_the_same_key_and_charges_once(stripe, make_gateway):
    fake, _ = stripe
    fake.slow_next, fake.slow_seconds = 1, 1.0  # Stripe charges, but the answer arrives after our timeout
    intent = await charge(make_gateway(timeout_seconds=0.3, max_network_retries=2), key="lost")

    assert intent.status is IntentStatus.SUCCEEDED
    assert [r.idempotency_key for r in fake.requests] == ["lost", "lost"]
    assert len(fake.charges) == 1
    assert fake.charges[0]["payment_intent"] == intent.payment_id


async def test_without_retries_a_lost_answer_surfaces_and_a_later_retry_still_charges_once(stripe, make_gateway):
    fake, _ = stripe
    fake.slow_next, fake.slow_seconds = 1, 1.0
    with pytest.raises(PaymentProviderUnavailable) as caught:
        await charge(make_gateway(timeout_seconds=0.3, max_network_retries=0), key="later")
    assert caught.value.retryable is True
    assert len(fake.charges) == 1  # it did go through

    intent = await charge(make_gateway(), key="later")
    assert intent.status is IntentStatus.SUCCEEDED
    assert intent.payment_id == fake.charges[0]["payment_intent"]
    assert len(fake.charges) == 1


@pytest.mark.parametrize(
    ("method", "decline_code"), [(PM_DECLINED, "generic_decline"), (PM_INSUFFICIENT, "insufficient_funds")]
)
async def test_a_declined_card_is_payment_declined_with_the_created_payment(stripe, make_gateway, method, decline_code):
    fake, _ = stripe
    with pytest.raises(PaymentDeclined) as caught:
        await charge(make_gateway(), method=method)
    assert caught.value.code == "payment_declined"
    assert caught.value.provider_code == decline_code
    assert caught.value.payment_id in fake.intents
    assert fake.intents[caught.value.payment_id]["status"] == "requires_payment_method"
    assert caught.value.retryable is False
    assert fake.charges == []


async def test_a_decline_is_replayed_for_the_same_key(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    with pytest.raises(PaymentDeclined) as first:
        await charge(gateway, key="d", method=PM_DECLINED)
    with pytest.raises(PaymentDeclined) as second:
        await charge(gateway, key="d", method=PM_DECLINED)
    assert second.value.payment_id == first.value.payment_id
    assert len(fake.intents) == 1


async def test_off_session_authentication_is_action_required(stripe, make_gateway):
    fake, _ = stripe
    with pytest.raises(PaymentActionRequired) as caught:
        await charge(make_gateway(), method=PM_AUTH_REQUIRED)
    assert caught.value.code == "payment_action_required"
    assert caught.value.provider_code == "authentication_required"
    assert caught.value.payment_id in fake.intents
    assert fake.charges == []


async def test_a_wrong_api_key_is_rejected_without_leaking_it(stripe, make_gateway):
    fake, _ = stripe
    wrong = "sk_test_" + "x" * 40
    with pytest.raises(PaymentRejected) as caught:
        await charge(make_gateway(secret_key=wrong))
    assert "HTTP 401" in str(caught.value)
    assert "xxxx" not in str(caught.value)
    assert fake.intents == {} and fake.charges == []


async def test_a_payment_method_of_another_customer_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    with pytest.raises(PaymentRejected) as caught:
        await make_gateway().charge_saved_method(
            FEE, customer_id=OTHER_CUSTOMER, payment_method_id=PM_VISA, idempotency_key="o"
        )
    assert caught.value.provider_code == "resource_missing"
    assert fake.charges == []


async def test_an_amount_below_stripes_minimum_is_rejected_and_not_saved_under_the_key(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    tiny = PaymentRequest(invoice_id=INVOICE, amount=Money(20, "USD"), customer_id=CUSTOMER)
    with pytest.raises(PaymentRejected) as caught:
        await charge(gateway, key="m", request=tiny)
    assert caught.value.provider_code == "amount_too_small"
    # a request refused before executing saves no idempotent answer: the key is still free
    assert fake.intents == {}  # nothing was created
    intent = await charge(gateway, key="m")
    assert intent.status is IntentStatus.SUCCEEDED
    assert list(fake.intents) == [intent.payment_id]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_outages_are_retried(stripe, make_gateway, status):
    fake, _ = stripe
    fake.fail_next.append(status)
    intent = await charge(make_gateway(max_network_retries=1), key="r")
    assert intent.status is IntentStatus.SUCCEEDED
    assert [r.idempotency_key for r in fake.requests] == ["r", "r"]
    assert len(fake.charges) == 1


async def test_outage_beyond_the_retries_is_unavailable(stripe, make_gateway):
    fake, _ = stripe
    fake.fail_next.extend([503, 503])
    with pytest.raises(PaymentProviderUnavailable) as caught:
        await charge(make_gateway(max_network_retries=1))
    assert "HTTP 503" in str(caught.value)
    assert fake.charges == []


async def test_connection_refused_is_unavailable(stripe_clock: FakeClock):
    gateway = StripeGateway(config(f"http://127.0.0.1:{free_port()}", max_network_retries=1), clock=stripe_clock)
    try:
        with pytest.raises(PaymentProviderUnavailable):
            await charge(gateway)
    finally:
        await gateway.aclose()


async def test_api_version_is_pinned_when_configured(stripe, make_gateway):
    fake, _ = stripe
    await charge(make_gateway(), key="a")
    await charge(make_gateway(api_version="2024-06-20"), key="b")
    assert [r.stripe_version for r in fake.requests] == [None, "2024-06-20"]


async def test_partial_then_full_refund(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    paid = await charge(gateway)

    part = await gateway.refund(
        RefundRequest(INVOICE, paid.payment_id, Money(2000, "USD"), RefundReason.REQUESTED_BY_CUSTOMER),
        idempotency_key="hearth-invoice-1-refund-1",
    )
    req = fake.requests[-1]
    assert req.path == "/v1/refunds" and req.idempotency_key == "hearth-invoice-1-refund-1"
    assert sorted(req.pairs) == sorted(
        [
            ("payment_intent", paid.payment_id),
            ("amount", "2000"),
            ("reason", "requested_by_customer"),
            ("metadata[invoice_id]", str(INVOICE)),
        ]
    )
    assert part.status is RefundStatus.SUCCEEDED
    assert (part.payment_id, part.amount, part.invoice_id) == (paid.payment_id, Money(2000, "USD"), INVOICE)

    rest = await gateway.refund(RefundRequest(INVOICE, paid.payment_id), idempotency_key="hearth-invoice-1-refund-2")
    assert rest.amount == Money(3000, "USD")
    assert "amount" not in dict(fake.requests[-1].pairs)
    assert sum(r["amount"] for r in fake.refunds_made) == 5000

    with pytest.raises(PaymentRejected) as caught:
        await gateway.refund(RefundRequest(INVOICE, paid.payment_id), idempotency_key="hearth-invoice-1-refund-3")
    assert caught.value.provider_code == "charge_already_refunded"


async def test_a_retried_refund_refunds_once(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    paid = await charge(gateway)
    request = RefundRequest(INVOICE, paid.payment_id, Money(1000, "USD"))
    first = await gateway.refund(request, idempotency_key="rf")
    again = await gateway.refund(request, idempotency_key="rf")
    assert again == first
    assert len(fake.refunds_made) == 1


async def test_refunding_more_than_was_paid_is_rejected(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    paid = await charge(gateway)
    with pytest.raises(PaymentRejected) as caught:
        await gateway.refund(RefundRequest(INVOICE, paid.payment_id, Money(5001, "USD")), idempotency_key="big")
    assert "greater than" in str(caught.value)
    assert fake.refunds_made == []


def test_config_refuses_a_publishable_key_and_a_missing_signing_secret():
    with pytest.raises(ValueError, match="secret key"):
        StripeConfig(secret_key="pk_test_abc", webhook_secret=WEBHOOK_SECRET)
    with pytest.raises(ValueError, match="whsec_"):
        StripeConfig(secret_key=SECRET_KEY, webhook_secret="")
    with pytest.raises(ValueError, match="tolerance"):
        StripeConfig(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, webhook_tolerance_seconds=0)


ON_SESSION = PaymentRequest(invoice_id=INVOICE, amount=Money(15000, "USD"))


async def test_paying_with_a_browser_made_payment_method_confirms_on_session(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    intent = await gateway.pay_with_method(ON_SESSION, payment_method_id=PM_VISA, idempotency_key="pay-1")
    (req,) = fake.requests
    assert sorted(req.pairs) == sorted(
        [
            ("amount", "15000"),
            ("currency", "usd"),
            ("confirm", "true"),
            ("payment_method", PM_VISA),
            ("metadata[invoice_id]", str(INVOICE)),
            ("payment_method_types[0]", "card"),
        ]
    )
    assert "off_session" not in dict(req.pairs), "the client is present: the bank may ask them to authenticate"
    assert intent.status is IntentStatus.SUCCEEDED and intent.amount_received_minor == 15000
    again = await gateway.pay_with_method(ON_SESSION, payment_method_id=PM_VISA, idempotency_key="pay-1")
    assert again.payment_id == intent.payment_id and len(fake.charges) == 1


async def test_on_session_authentication_is_asked_of_the_client_not_declined(stripe, make_gateway):
    intent = await make_gateway().pay_with_method(ON_SESSION, payment_method_id=PM_AUTH_REQUIRED, idempotency_key="k")
    assert intent.status is IntentStatus.REQUIRES_ACTION and intent.client_secret


async def test_an_on_session_decline_is_payment_declined(stripe, make_gateway):
    with pytest.raises(PaymentDeclined) as declined:
        await make_gateway().pay_with_method(ON_SESSION, payment_method_id=PM_DECLINED, idempotency_key="k")
    assert declined.value.provider_code == "generic_decline" and declined.value.payment_id


# ---------------------------------------------------------------------------------------------- cancel


async def _awaiting_authentication(gateway: StripeGateway) -> str:
    intent = await gateway.pay_with_method(ON_SESSION, payment_method_id=PM_AUTH_REQUIRED, idempotency_key="pay")
    assert intent.status is IntentStatus.REQUIRES_ACTION
    return intent.payment_id


async def test_cancelling_a_payment_is_the_request_stripe_expects_and_it_can_no_longer_be_paid(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    payment_id = await _awaiting_authentication(gateway)

    canceled = await gateway.cancel_payment(payment_id, idempotency_key="hearth-invoice-1-void-3")

    req = fake.requests[-1]
    assert (req.method, req.path) == ("POST", f"/v1/payment_intents/{payment_id}/cancel")
    assert req.content_type == "application/x-www-form-urlencoded"
    assert req.authorization == f"Bearer {SECRET_KEY}"
    assert req.idempotency_key == "hearth-invoice-1-void-3"
    assert req.pairs == [("cancellation_reason", "abandoned")]
    assert (canceled.payment_id, canceled.status, canceled.invoice_id) == (payment_id, IntentStatus.CANCELED, INVOICE)
    assert fake.intents[payment_id]["cancellation_reason"] == "abandoned"
    status, body = fake.authenticate(payment_id)  # the client finishing 3-D Secure in the browser, too late
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state"
    assert fake.charges == []
    again = await gateway.cancel_payment(payment_id, idempotency_key="hearth-invoice-1-void-3")
    assert again == canceled and len(fake.events_of("payment_intent.canceled")) == 1
    # Canceled before under another key (the first answer lost for good): still canceled, not an error.
    later = await gateway.cancel_payment(payment_id, idempotency_key="hearth-invoice-1-void-4")
    assert later.status is IntentStatus.CANCELED


async def test_a_payment_that_went_through_is_answered_succeeded_not_canceled(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    payment_id = await _awaiting_authentication(gateway)
    fake.authenticate(payment_id)

    answer = await gateway.cancel_payment(payment_id, idempotency_key="void")

    assert answer.status is IntentStatus.SUCCEEDED and answer.amount_received_minor == 15000
    assert fake.intents[payment_id]["status"] == "succeeded" and len(fake.charges) == 1


async def test_a_processing_payment_is_canceled_only_when_stripe_allows_it(stripe, make_gateway):
    fake, _ = stripe
    gateway = make_gateway()
    payment_id = await _awaiting_authentication(gateway)
    fake.authenticate(payment_id, processing=True)

    refused = await gateway.cancel_payment(payment_id, idempotency_key="void-1")
    assert refused.status is IntentStatus.PROCESSING
    fake.cancel_processing = True
    canceled = await gateway.cancel_payment(payment_id, idempotency_key="void-2")
    assert canceled.status is IntentStatus.CANCELED
    assert fake.settle(payment_id)[0] == 400 and fake.charges == []


async def test_cancelling_an_unknown_payment_is_rejected(stripe, make_gateway):
    with pytest.raises(PaymentRejected) as caught:
        await make_gateway().cancel_payment("pi_unknown", idempotency_key="void")
    assert caught.value.provider_code == "resource_missing"
