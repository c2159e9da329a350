from __future__ import annotations

import itertools
import uuid
from datetime import date

import pytest

from domain.billing import invoices as inv
from domain.billing.invoices import TRANSITIONS, ChargeKind, EventOutcome, InvoiceStatus
from domain.billing.ports import IntentStatus, PaymentEventKind, RefundReason, RefundResult, RefundStatus
from domain.scheduling.model import Money
from domain.shared.errors import Conflict, InvalidState, StaleVersion, ValidationFailed
from tests.unit.billing.factories import (
    APPOINTMENT,
    CLIENT,
    PAYMENT,
    PRACTICE,
    THERAPIST,
    coding,
    draft,
    event,
    intent,
    opened,
    paid,
    usd,
    utc,
)

S = InvoiceStatus
LEGAL = {
    (S.DRAFT, S.OPEN),
    (S.DRAFT, S.VOID),
    (S.OPEN, S.PROCESSING),
    (S.OPEN, S.PAID),
    (S.OPEN, S.PAYMENT_FAILED),
    (S.OPEN, S.VOID),
    (S.PROCESSING, S.PAID),
    (S.PROCESSING, S.PAYMENT_FAILED),
    (S.PAYMENT_FAILED, S.OPEN),
    (S.PAYMENT_FAILED, S.PROCESSING),
    (S.PAYMENT_FAILED, S.PAID),
    (S.PAYMENT_FAILED, S.VOID),
    (S.PAID, S.PARTIALLY_REFUNDED),
    (S.PAID, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
}
AT = utc(2026, 3, 9, 17)


# ---------------------------------------------------------------------------------------------- the machine


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_move_is_legal_exactly_when_listed(current: InvoiceStatus, target: InvoiceStatus) -> None:
    if (current, target) in LEGAL:
        inv.ensure_transition(current, target)
    else:
        with pytest.raises(InvalidState) as err:
            inv.ensure_transition(current, target)
        assert err.value.code == "invalid_state"


def test_refunded_and_void_are_final() -> None:
    assert TRANSITIONS[S.REFUNDED] == frozenset()
    assert TRANSITIONS[S.VOID] == frozenset()


def test_a_new_invoice_is_a_draft_and_issuing_opens_it() -> None:
    invoice = draft()
    assert (invoice.status, invoice.version, invoice.amount_due) == (S.DRAFT, 1, usd(14000))
    issued = inv.issue(invoice, at=AT)
    assert (issued.status, issued.issued_at, issued.version) == (S.OPEN, AT, 2)
    assert invoice.status is S.DRAFT  # values are immutable


def test_issuing_twice_is_invalid_state() -> None:
    with pytest.raises(InvalidState):
        inv.issue(opened(), at=AT)


@pytest.mark.parametrize("make", [draft, opened], ids=["draft", "open"])
def test_unpaid_invoices_can_be_voided(make) -> None:
    voided = inv.void(make(), at=AT)
    assert (voided.status, voided.voided_at) == (S.VOID, AT)


def test_a_paid_or_processing_invoice_cannot_be_voided() -> None:
    with pytest.raises(InvalidState):
        inv.void(paid(), at=AT)
    attempt = inv.start_payment_attempt(opened())
    processing = inv.record_intent(attempt, intent(attempt, IntentStatus.PROCESSING), at=AT)
    assert processing.status is S.PROCESSING
    with pytest.raises(InvalidState):
        inv.void(processing, at=AT)


def _tracking(status: IntentStatus) -> inv.Invoice:
    attempt = inv.start_payment_attempt(opened())
    return inv.record_intent(attempt, intent(attempt, status), at=AT)


def test_a_payment_under_way_is_canceled_before_a_void() -> None:
    assert inv.payment_to_cancel(opened()) is None
    assert inv.payment_to_cancel(paid()) is None
    for status in (IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING):
        assert inv.payment_to_cancel(_tracking(status)) == PAYMENT
    declined = inv.record_decline(inv.start_payment_attempt(opened()), payment_id=PAYMENT, failure_code="x")
    assert inv.payment_to_cancel(declined) == PAYMENT  # the browser could still pay it with another card


@pytest.mark.parametrize("status", [IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING])
def test_a_canceled_payment_lets_the_invoice_go_void(status: IntentStatus) -> None:
    invoice = _tracking(status)
    voided = inv.void_after_cancel(invoice, intent(invoice, IntentStatus.CANCELED), at=AT)
    assert (voided.status, voided.voided_at, voided.failure_code) == (S.VOID, AT, "canceled")
    assert voided.amount_paid_minor == 0


@pytest.mark.parametrize(
    ("answer", "code"),
    [(IntentStatus.SUCCEEDED, "already_paid"), (IntentStatus.PROCESSING, "payment_in_progress")],
)
def test_a_payment_the_provider_did_not_cancel_refuses_the_void(answer: IntentStatus, code: str) -> None:
    invoice = _tracking(IntentStatus.REQUIRES_ACTION)
    with pytest.raises(InvalidState) as err:
        inv.void_after_cancel(invoice, intent(invoice, answer), at=AT)
    assert err.value.code == code


def test_a_void_after_the_invoice_moved_to_another_payment_is_stale() -> None:
    invoice = _tracking(IntentStatus.REQUIRES_ACTION)
    with pytest.raises(StaleVersion):
        inv.void_after_cancel(invoice, intent(invoice, IntentStatus.CANCELED, payment_id="pi_old"), at=AT)


def test_the_cancel_key_changes_with_the_invoice() -> None:
    invoice = _tracking(IntentStatus.PROCESSING)
    key = inv.cancel_idempotency_key(invoice)
    assert key == inv.cancel_idempotency_key(invoice)
    failed = inv.apply_payment_event(invoice, event(PaymentEventKind.FAILED)).invoice
    assert inv.cancel_idempotency_key(failed) != key


def test_void_invoices_cannot_be_paid_or_refunded() -> None:
    voided = inv.void(opened(), at=AT)
    with pytest.raises(InvalidState):
        inv.start_payment_attempt(voided)
    with pytest.raises(InvalidState):
        inv.payment_request(voided)
    with pytest.raises(InvalidState):
        inv.refund_request(voided)


def test_drafts_cannot_be_paid() -> None:
    with pytest.raises(InvalidState):
        inv.start_payment_attempt(draft())
    with pytest.raises(InvalidState):
        unissued = draft()
        inv.record_intent(unissued, intent(unissued, IntentStatus.SUCCEEDED), at=AT)


# ---------------------------------------------------------------------------------------------- creation


def test_invoices_are_positive_and_fees_carry_the_accepted_policy() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(usd(0))
    assert err.value.code == "invalid_amount"
    fee = draft(usd(7000), kind=ChargeKind.NO_SHOW)
    assert (fee.charge.kind, fee.charge.policy_version, fee.charge.coding) == (ChargeKind.NO_SHOW, 1, None)
    with pytest.raises(ValidationFailed):
        inv.fee_charge(
            kind=ChargeKind.SESSION,
            appointment_id=APPOINTMENT,
            service_date=date(2026, 3, 9),
            fee=usd(1),
            policy_version=1,
        )
    bad = inv.Charge(ChargeKind.LATE_CANCELLATION, APPOINTMENT, date(2026, 3, 9), usd(100), coding=coding())
    with pytest.raises(ValidationFailed) as err:
        inv.new_invoice(
            id=uuid.uuid4(), practice_id=PRACTICE, therapist_id=THERAPIST, client_id=CLIENT, charge=bad, created_at=AT
        )
    assert err.value.code == "invalid_charge"


# ---------------------------------------------------------------------------------------------- paying


def test_payment_keys_are_stable_per_attempt_and_new_per_attempt() -> None:
    invoice = inv.start_payment_attempt(opened())
    key = inv.payment_idempotency_key(invoice)
    assert key == f"hearth-invoice-{invoice.id}-payment-1"
    assert inv.payment_idempotency_key(invoice) == key  # a retry of the same attempt reuses it
    failed = inv.record_decline(invoice, payment_id="pi_a", failure_code="card_declined")
    retry = inv.start_payment_attempt(failed)
    assert inv.payment_idempotency_key(retry) == f"hearth-invoice-{invoice.id}-payment-2"
    assert retry.payment_id is None  # the new attempt will track a new payment
    assert (retry.status, retry.failure_code) == (S.OPEN, None)  # awaiting the new attempt, not failed again
    with pytest.raises(InvalidState) as err:
        inv.payment_idempotency_key(opened())
    assert err.value.code == "no_payment_attempt"


def test_a_second_attempt_while_one_is_under_way_is_refused() -> None:
    invoice = inv.start_payment_attempt(opened())
    tracking = inv.record_intent(invoice, intent(invoice, IntentStatus.REQUIRES_PAYMENT_METHOD), at=AT)
    assert (tracking.status, tracking.payment_id) == (S.OPEN, PAYMENT)
    with pytest.raises(InvalidState) as err:
        inv.start_payment_attempt(tracking)
    assert err.value.code == "payment_in_progress"


def test_a_succeeded_intent_pays_the_invoice() -> None:
    invoice = inv.start_payment_attempt(opened())
    result = inv.record_intent(invoice, intent(invoice, IntentStatus.SUCCEEDED), at=AT)
    assert (result.status, result.amount_paid_minor, result.paid_at, result.payment_id) == (S.PAID, 14000, AT, PAYMENT)
    assert result.collected == usd(14000)
    # the same answer again (a retried call) changes nothing
    assert inv.record_intent(result, intent(invoice, IntentStatus.SUCCEEDED), at=AT) is result


def test_a_declined_intent_fails_the_invoice_and_a_later_success_pays_it() -> None:
    invoice = inv.start_payment_attempt(opened())
    failed = inv.record_intent(
        invoice, intent(invoice, IntentStatus.REQUIRES_PAYMENT_METHOD, failure_code="insufficient_funds"), at=AT
    )
    assert (failed.status, failed.failure_code) == (S.PAYMENT_FAILED, "insufficient_funds")
    recovered = inv.apply_payment_event(failed, event(PaymentEventKind.SUCCEEDED, invoice_id=invoice.id)).invoice
    assert (recovered.status, recovered.failure_code) == (S.PAID, None)


def test_a_retry_after_a_decline_awaits_its_own_outcome() -> None:
    first = inv.start_payment_attempt(opened())
    failed = inv.record_decline(first, payment_id="pi_declined", failure_code="card_declined")
    retry = inv.start_payment_attempt(failed)
    # The new card asks for 3-D Secure: the invoice waits for it, open, not still failed from the first card.
    waiting = inv.record_intent(retry, intent(retry, IntentStatus.REQUIRES_ACTION, payment_id="pi_3ds"), at=AT)
    assert (waiting.status, waiting.payment_id, waiting.failure_code) == (S.OPEN, "pi_3ds", None)
    # The first card's failure, arriving late by webhook, is not the new attempt's.
    late = inv.apply_payment_event(
        waiting, event(PaymentEventKind.FAILED, event_id="evt_old", payment_id="pi_declined")
    )
    assert (late.outcome, late.invoice.status) == (EventOutcome.IGNORED, S.OPEN)
    # The new payment's own failure is recorded with its code; its success would pay.
    refused = inv.apply_payment_event(
        late.invoice,
        event(PaymentEventKind.FAILED, event_id="evt_3ds", payment_id="pi_3ds", failure_code="authentication_required"),
    ).invoice
    assert (refused.status, refused.failure_code) == (S.PAYMENT_FAILED, "authentication_required")
    paid = inv.apply_payment_event(
        late.invoice, event(PaymentEventKind.SUCCEEDED, event_id="evt_ok", payment_id="pi_3ds")
    )
    assert paid.invoice.status is S.PAID


def test_an_intent_for_another_amount_is_a_conflict() -> None:
    invoice = inv.start_payment_attempt(opened())
    with pytest.raises(Conflict) as err:
        inv.record_intent(invoice, intent(invoice, IntentStatus.SUCCEEDED, amount=usd(1)), at=AT)
    assert err.value.code == "payment_amount_mismatch"


def test_an_invoice_tracks_one_payment() -> None:
    invoice = inv.start_payment_attempt(opened())
    tracking = inv.record_intent(invoice, intent(invoice, IntentStatus.REQUIRES_PAYMENT_METHOD), at=AT)
    with pytest.raises(Conflict) as err:
        inv.record_intent(tracking, intent(invoice, IntentStatus.REQUIRES_ACTION, payment_id="pi_other"), at=AT)
    assert err.value.code == "payment_mismatch"


# ---------------------------------------------------------------------------------------------- webhooks


def test_the_same_event_id_twice_changes_nothing() -> None:
    invoice = opened()
    succeeded = event(PaymentEventKind.SUCCEEDED, event_id="evt_paid", invoice_id=invoice.id)
    first = inv.apply_payment_event(invoice, succeeded)
    assert first.outcome is EventOutcome.APPLIED
    assert (first.invoice.status, first.invoice.payment_id) == (S.PAID, PAYMENT)
    assert first.invoice.processed_events == {"evt_paid"}

    second = inv.apply_payment_event(first.invoice, succeeded)
    assert second.outcome is EventOutcome.DUPLICATE
    assert second.invoice is first.invoice


def test_the_same_refund_event_twice_refunds_once() -> None:
    invoice = paid()
    refund = event(PaymentEventKind.REFUNDED, event_id="evt_r", refund_id="re_1", amount=usd(4000))
    once = inv.apply_payment_event(invoice, refund).invoice
    twice = inv.apply_payment_event(once, refund).invoice
    assert twice is once
    assert (twice.status, twice.amount_refunded_minor) == (S.PARTIALLY_REFUNDED, 4000)


def test_processing_then_succeeded() -> None:
    invoice = opened()
    processing = inv.apply_payment_event(invoice, event(PaymentEventKind.PROCESSING, event_id="e1")).invoice
    assert processing.status is S.PROCESSING
    done = inv.apply_payment_event(processing, event(PaymentEventKind.SUCCEEDED, event_id="e2")).invoice
    assert done.status is S.PAID


def test_events_out_of_order_never_move_an_invoice_backwards() -> None:
    invoice = paid()
    for kind in (PaymentEventKind.PROCESSING, PaymentEventKind.FAILED, PaymentEventKind.CANCELED):
        result = inv.apply_payment_event(invoice, event(kind, event_id=f"late-{kind}", failure_code="x"))
        assert result.outcome is EventOutcome.IGNORED
        assert result.invoice.status is S.PAID
        assert result.invoice.failure_code is None
        invoice = result.invoice
    assert len(invoice.processed_events) == 3


def test_a_failure_of_a_payment_the_invoice_does_not_track_is_ignored() -> None:
    attempt = inv.start_payment_attempt(opened())
    invoice = inv.record_intent(attempt, intent(attempt, IntentStatus.REQUIRES_PAYMENT_METHOD), at=AT)
    result = inv.apply_payment_event(invoice, event(PaymentEventKind.FAILED, payment_id="pi_old"))
    assert result.outcome is EventOutcome.IGNORED
    assert result.invoice.status is S.OPEN


def test_failed_and_canceled_events_fail_an_open_invoice() -> None:
    failed = inv.apply_payment_event(opened(), event(PaymentEventKind.FAILED, failure_code="expired_card")).invoice
    assert (failed.status, failed.failure_code) == (S.PAYMENT_FAILED, "expired_card")
    canceled = inv.apply_payment_event(opened(), event(PaymentEventKind.CANCELED)).invoice
    assert (canceled.status, canceled.failure_code) == (S.PAYMENT_FAILED, "canceled")


def test_money_that_cannot_be_explained_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        inv.apply_payment_event(paid(), event(PaymentEventKind.SUCCEEDED, payment_id="pi_surprise"))
    assert err.value.code == "duplicate_payment"


@pytest.mark.parametrize("amount", [usd(14000), usd(9000)], ids=["the-amount-due", "another-amount"])
def test_money_for_a_void_invoice_is_to_be_refunded_not_applied(amount: Money) -> None:
    voided = inv.void(opened(), at=AT)
    result = inv.apply_payment_event(voided, event(PaymentEventKind.SUCCEEDED, payment_id="pi_late", amount=amount))
    assert result.outcome is EventOutcome.REFUND
    assert (result.invoice.status, result.invoice.amount_paid_minor, result.invoice.paid_at) == (S.VOID, 0, None)
    assert inv.apply_payment_event(result.invoice, event(PaymentEventKind.SUCCEEDED)).outcome is EventOutcome.DUPLICATE
    request = inv.void_refund_request(voided, "pi_late")
    assert (request.payment_id, request.amount, request.invoice_id) == ("pi_late", None, voided.id)  # all of it
    key = inv.void_refund_idempotency_key(voided, "pi_late")
    assert key == inv.void_refund_idempotency_key(voided, "pi_late") != inv.void_refund_idempotency_key(voided, "pi_b")
    with pytest.raises(InvalidState):
        inv.void_refund_request(opened(), "pi_late")


def test_a_success_for_another_amount_or_invoice_is_a_conflict() -> None:
    invoice = opened()
    with pytest.raises(Conflict) as err:
        inv.apply_payment_event(invoice, event(PaymentEventKind.SUCCEEDED, amount=Money(14000, "EUR")))
    assert err.value.code == "payment_amount_mismatch"
    with pytest.raises(Conflict):
        inv.apply_payment_event(invoice, event(PaymentEventKind.SUCCEEDED, invoice_id=uuid.uuid4()))


def test_events_for_drafts_or_void_invoices_other_than_money_are_ignored() -> None:
    voided = inv.void(opened(), at=AT)
    result = inv.apply_payment_event(voided, event(PaymentEventKind.FAILED))
    assert result.outcome is EventOutcome.IGNORED and result.invoice.status is S.VOID


# ---------------------------------------------------------------------------------------------- refunds


def refund(cents: int, refund_id: str = "re_1", status: RefundStatus = RefundStatus.SUCCEEDED) -> RefundResult:
    return RefundResult(refund_id, PAYMENT, usd(cents), status)


def test_partial_refunds_then_full() -> None:
    invoice = paid()
    key1 = inv.refund_idempotency_key(invoice)
    part = inv.record_refund(invoice, refund(4000), at=AT)
    assert (part.status, part.amount_refunded_minor, part.refundable_minor) == (S.PARTIALLY_REFUNDED, 4000, 10000)
    assert inv.refund_idempotency_key(part) != key1
    more = inv.record_refund(part, refund(5000, "re_2"), at=AT)
    assert (more.status, more.amount_refunded_minor) == (S.PARTIALLY_REFUNDED, 9000)
    full = inv.record_refund(more, refund(5000, "re_3"), at=AT)
    assert (full.status, full.collected, full.refundable_minor) == (S.REFUNDED, usd(0), 0)
    assert [r.refund_id for r in full.refunds] == ["re_1", "re_2", "re_3"]


def test_a_full_refund_at_once() -> None:
    assert inv.record_refund(paid(), refund(14000), at=AT).status is S.REFUNDED


def test_the_same_refund_id_counts_once() -> None:
    once = inv.record_refund(paid(), refund(4000), at=AT)
    assert inv.record_refund(once, refund(4000), at=AT) is once


def test_failed_and_canceled_refunds_change_nothing() -> None:
    invoice = paid()
    assert inv.record_refund(invoice, refund(4000, status=RefundStatus.FAILED), at=AT) is invoice
    assert inv.record_refund(invoice, refund(4000, status=RefundStatus.CANCELED), at=AT) is invoice
    pending = inv.record_refund(invoice, refund(4000, status=RefundStatus.PENDING), at=AT)
    assert pending.amount_refunded_minor == 4000


def test_refunds_are_checked_before_asking_the_provider() -> None:
    invoice = paid()
    request = inv.refund_request(invoice, amount=usd(4000), reason=RefundReason.DUPLICATE)
    assert (request.payment_id, request.amount, request.invoice_id) == (PAYMENT, usd(4000), invoice.id)
    with pytest.raises(ValidationFailed) as err:
        inv.refund_request(invoice, amount=usd(14001))
    assert err.value.code == "refund_too_large"
    with pytest.raises(ValidationFailed):
        inv.refund_request(invoice, amount=usd(0))
    with pytest.raises(ValidationFailed) as err:
        inv.refund_request(invoice, amount=Money(100, "EUR"))
    assert err.value.code == "currency_mismatch"
    with pytest.raises(InvalidState):
        inv.refund_request(opened())
    with pytest.raises(InvalidState):
        inv.refund_request(inv.record_refund(invoice, refund(14000), at=AT))


def test_refunding_an_unpaid_invoice_is_invalid_state() -> None:
    with pytest.raises(InvalidState):
        inv.record_refund(opened(), refund(100), at=AT)


def test_a_refund_beyond_what_was_paid_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        inv.record_refund(paid(), refund(14001), at=AT)
    assert err.value.code == "refund_mismatch"


def test_a_refund_of_another_payment_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        inv.record_refund(paid(), RefundResult("re_x", "pi_other", usd(100), RefundStatus.SUCCEEDED), at=AT)
    assert err.value.code == "payment_mismatch"


def test_every_change_bumps_the_version() -> None:
    invoice = paid()
    assert invoice.version == 4  # created, issued, attempt started, paid
    assert inv.record_refund(invoice, refund(1), at=AT).version == 5
