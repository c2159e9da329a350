"""Invoices and their payment state machine.

One invoice per charge (a session, a late-cancellation fee or a no-show fee). States and legal moves:

    draft -> open | void
    open -> processing | paid | payment_failed | void
    processing -> paid | payment_failed
    payment_failed -> processing | paid | void          (the client retries, or the therapist gives up)
    paid -> partially_refunded | refunded
    partially_refunded -> refunded                     (further partial refunds stay partially_refunded)
    refunded, void: final

A void of an invoice whose payment is under way cancels that payment at the provider first; only a canceled
payment lets the invoice go void, through payment_failed (`void_after_cancel`).

A direct command that is not a legal move (`issue`, `void`, `record_refund` on an unpaid invoice ...) raises
`InvalidState`. Provider results and webhooks are different: the provider does not promise to deliver events in
order, so an event that would move an invoice backwards (a `processing` after `paid`, a failure of a payment
the invoice no longer tracks) is *ignored*, not an error. Money that cannot be explained (a success on an
already-paid invoice, an amount or currency other than the invoice's, a payment other than the one the invoice
tracks) raises `Conflict` so a person looks at it. A success on a void invoice is not applied either: its outcome
is `refund` (see `apply_payment_event`).

Idempotency:
* webhooks: `apply_payment_event` records each provider event id on the invoice; the same event id again
  returns the invoice unchanged (outcome `duplicate`);
* refunds are keyed by the provider's refund id, so a refund seen both in the API answer and in its webhook
  counts once;
* provider calls: `payment_idempotency_key` and `refund_idempotency_key` derive the key from the invoice, so
  a retried call (timeout, crash before the answer was stored) can never charge or refund twice. A new key is
  only made by `start_payment_attempt`, which the service calls for a new attempt after a failure.
  `cancel_idempotency_key` does the same for the cancel before a void.

Invoices are immutable values: every operation returns a new invoice with `version` + 1.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from domain.billing.coding import Coding
from domain.billing.money import Money, validate_money
from domain.billing.ports import (
    IntentStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentIntent,
    PaymentRequest,
    RefundReason,
    RefundRequest,
    RefundResult,
)
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import Conflict, InvalidState, StaleVersion, ValidationFailed


class ChargeKind(StrEnum):
    SESSION = "session"
    LATE_CANCELLATION = "late_cancellation"
    NO_SHOW = "no_show"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PROCESSING = "processing"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOID = "void"


_S = InvoiceStatus

TRANSITIONS: Mapping[InvoiceStatus, frozenset[InvoiceStatus]] = MappingProxyType(
    {
        _S.DRAFT: frozenset({_S.OPEN, _S.VOID}),
        _S.OPEN: frozenset({_S.PROCESSING, _S.PAID, _S.PAYMENT_FAILED, _S.VOID}),
        _S.PROCESSING: frozenset({_S.PAID, _S.PAYMENT_FAILED}),
        # Back to open when the client tries again: the invoice then awaits the new attempt's outcome.
        _S.PAYMENT_FAILED: frozenset({_S.OPEN, _S.PROCESSING, _S.PAID, _S.VOID}),
        _S.PAID: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
        _S.PARTIALLY_REFUNDED: frozenset({_S.REFUNDED}),
        _S.REFUNDED: frozenset(),
        _S.VOID: frozenset(),
    }
)

# Awaiting money: a payment may be started, may be under way, or may have failed.
PAYABLE_STATUSES: frozenset[InvoiceStatus] = frozenset({_S.OPEN, _S.PROCESSING, _S.PAYMENT_FAILED})
# Money was received (some of it may have been refunded since).
SETTLED_STATUSES: frozenset[InvoiceStatus] = frozenset({_S.PAID, _S.PARTIALLY_REFUNDED, _S.REFUNDED})
# Issued and not paid: what a statement shows as outstanding.
OUTSTANDING_STATUSES = PAYABLE_STATUSES
MAX_IDEMPOTENCY_KEY = 255  # Stripe's limit


def can_transition(current: InvoiceStatus, target: InvoiceStatus) -> bool:
    return target in TRANSITIONS[current]


def ensure_transition(current: InvoiceStatus, target: InvoiceStatus) -> None:
    if not can_transition(current, target):
        raise InvalidState(f"An invoice that is {current.value} cannot become {target.value}.")


@dataclass(frozen=True, slots=True)
class Charge:
    """What is billed. A session carries its `coding`; a fee carries the version of the cancellation policy the
    client accepted when booking (the one that said there is a fee)."""

    kind: ChargeKind
    appointment_id: uuid.UUID
    service_date: date
    amount: Money
    coding: Coding | None = None
    policy_version: int | None = None


@dataclass(frozen=True, slots=True)
class RecordedRefund:
    refund_id: str
    amount_minor: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Invoice:
    id: uuid.UUID
    practice_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    charge: Charge
    status: InvoiceStatus
    created_at: datetime
    issued_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    amount_paid_minor: int = 0
    amount_refunded_minor: int = 0
    payment_id: str | None = None  # the provider payment this invoice tracks
    payment_attempts: int = 0
    failure_code: str | None = None
    refunds: tuple[RecordedRefund, ...] = ()
    processed_events: frozenset[str] = frozenset()
    version: int = 1

    @property
    def amount_due(self) -> Money:
        return self.charge.amount

    @property
    def currency(self) -> str:
        return self.charge.amount.currency

    @property
    def collected(self) -> Money:
        """Received and kept: paid minus refunded."""
        return Money(self.amount_paid_minor - self.amount_refunded_minor, self.currency)

    @property
    def refundable_minor(self) -> int:
        return self.amount_paid_minor - self.amount_refunded_minor if self.status in SETTLED_STATUSES else 0


def _next(invoice: Invoice, **changes: Any) -> Invoice:
    return replace(invoice, version=invoice.version + 1, **changes)


def _move(invoice: Invoice, target: InvoiceStatus, **changes: Any) -> Invoice:
    ensure_transition(invoice.status, target)
    return _next(invoice, status=target, **changes)


# ---------------------------------------------------------------------------------------------- creation


def session_charge(*, appointment_id: uuid.UUID, service_date: date, price: Money, coding: Coding) -> Charge:
    return Charge(ChargeKind.SESSION, appointment_id, service_date, price, coding=coding)


def fee_charge(
    *, kind: ChargeKind, appointment_id: uuid.UUID, service_date: date, fee: Money, policy_version: int
) -> Charge:
    if kind is ChargeKind.SESSION:
        raise ValidationFailed("A fee is a late cancellation or a no-show.", code="invalid_charge", field="kind")
    return Charge(kind, appointment_id, service_date, fee, policy_version=policy_version)


def new_invoice(
    *,
    id: uuid.UUID,
    practice_id: uuid.UUID,
    therapist_id: uuid.UUID,
    client_id: uuid.UUID,
    charge: Charge,
    created_at: datetime,
) -> Invoice:
    """A `draft` invoice for one charge. The amount must be positive: a free session has no invoice."""
    validate_money(charge.amount, field="amount", positive=True)
    if charge.kind is ChargeKind.SESSION and (charge.coding is None or charge.policy_version is not None):
        raise ValidationFailed("A session charge carries its coding.", code="invalid_charge", field="coding")
    if charge.kind is not ChargeKind.SESSION and (charge.coding is not None or charge.policy_version is None):
        raise ValidationFailed(
            "A fee carries the accepted policy version.", code="invalid_charge", field="policy_version"
        )
    if therapist_id == client_id:
        raise ValidationFailed("A therapist cannot bill themselves.", code="invalid_charge", field="client_id")
    return Invoice(
        id=id,
        practice_id=practice_id,
        therapist_id=therapist_id,
        client_id=client_id,
        charge=charge,
        status=InvoiceStatus.DRAFT,
        created_at=ensure_utc(created_at, field="created_at"),
    )


# ---------------------------------------------------------------------------------------------- commands


def issue(invoice: Invoice, *, at: datetime) -> Invoice:
    """draft -> open: the client now owes it."""
    return _move(invoice, InvoiceStatus.OPEN, issued_at=ensure_utc(at, field="at"))


def void(invoice: Invoice, *, at: datetime) -> Invoice:
    """Cancel an unpaid invoice that tracks no payment still able to take money (see `payment_to_cancel`)."""
    return _move(invoice, InvoiceStatus.VOID, voided_at=ensure_utc(at, field="at"))


def payment_to_cancel(invoice: Invoice) -> str | None:
    """The provider payment to cancel before voiding: the one an unpaid invoice tracks. Until canceled it can
    still take the client's money after the void: the client can finish 3-D Secure or retry a declined card in
    their browser with it, and a processing one can still succeed."""
    return invoice.payment_id if invoice.status in PAYABLE_STATUSES else None


def void_after_cancel(invoice: Invoice, intent: PaymentIntent, *, at: datetime) -> Invoice:
    """Void an invoice once the provider answered the cancel of its `payment_to_cancel`. Only a canceled payment
    lets it go void. One that succeeded is refused: the money was taken, its webhook will mark the invoice paid
    and a refund, not a void, gives it back. One the provider would not stop is refused until it ends."""
    if intent.status is IntentStatus.SUCCEEDED:
        raise InvalidState(
            "The client's payment of this invoice has gone through; the invoice shows it as paid once the payment "
            "provider confirms it. Refund it instead of voiding it.",
            code="already_paid",
        )
    if intent.status is not IntentStatus.CANCELED:
        raise InvalidState(
            "A payment of this invoice is under way and the payment provider cannot stop it; void the invoice if "
            "the payment fails, refund it if it succeeds.",
            code="payment_in_progress",
        )
    if intent.payment_id != invoice.payment_id:
        raise StaleVersion("The invoice's payment changed meanwhile; try again.")
    # The payment ended canceled, as its webhook would record it, before the invoice is voided.
    return void(_failed(invoice, intent.payment_id, "canceled"), at=at)


def start_payment_attempt(invoice: Invoice) -> Invoice:
    """Begin a new attempt to collect: the next `payment_idempotency_key` is a fresh key. Allowed on an open
    invoice that tracks no payment yet, or after a failed payment (the new attempt will track a new one)."""
    if invoice.status is InvoiceStatus.OPEN and invoice.payment_id is None:
        return _next(invoice, payment_attempts=invoice.payment_attempts + 1)
    if invoice.status is InvoiceStatus.PAYMENT_FAILED:
        # Open again, as before a first attempt: left `payment_failed` while the new payment awaits 3-D Secure or the
        # provider, the invoice would say the new attempt failed too (the SPA stopped waiting on it), and the new
        # payment's own failure could not be recorded (`_failed` moves only an open or processing invoice).
        return _move(
            invoice,
            InvoiceStatus.OPEN,
            payment_attempts=invoice.payment_attempts + 1,
            payment_id=None,
            failure_code=None,
        )
    if invoice.status is InvoiceStatus.OPEN:
        raise InvalidState("A payment for this invoice is already under way.", code="payment_in_progress")
    raise InvalidState(f"An invoice that is {invoice.status.value} cannot be paid.")


def _check_key(key: str) -> str:
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValueError("idempotency key too long")
    return key


def payment_idempotency_key(invoice: Invoice) -> str:
    """The key for creating the current attempt's payment; the same for every retry of that attempt."""
    if invoice.payment_attempts < 1:
        raise InvalidState("No payment attempt has been started.", code="no_payment_attempt")
    return _check_key(f"hearth-invoice-{invoice.id}-payment-{invoice.payment_attempts}")


def cancel_idempotency_key(invoice: Invoice) -> str:
    """The key for canceling the invoice's payment before a void. Derived from the version, not only from the
    payment: the provider saves a refusal ("still processing") under its key and replays it, so once the invoice
    has moved on (that payment failed meanwhile) a new void must reach the provider afresh; a retry of the same
    void of the unchanged invoice reuses the key."""
    return _check_key(f"hearth-invoice-{invoice.id}-void-{invoice.version}")


def refund_idempotency_key(invoice: Invoice, request_key: str | None = None) -> str:
    """The key for a refund. With the caller's own Idempotency-Key (`request_key`), derived from it: a retry of a
    refund whose answer was lost (and which a webhook may have recorded meanwhile) reaches the provider with the
    same key and is not made twice. Without one, the key of the next refund, which changes once it is recorded."""
    if request_key is not None:
        digest = hashlib.sha256(request_key.encode()).hexdigest()[:32]
        return _check_key(f"hearth-invoice-{invoice.id}-refund-r{digest}")
    return _check_key(f"hearth-invoice-{invoice.id}-refund-{len(invoice.refunds) + 1}")


def void_refund_idempotency_key(invoice: Invoice, payment_id: str) -> str:
    """The key for refunding a payment that reached the void invoice: one refund per payment, however often the
    refund is retried or its webhook redelivered."""
    digest = hashlib.sha256(payment_id.encode()).hexdigest()[:32]
    return _check_key(f"hearth-invoice-{invoice.id}-void-refund-{digest}")


def payment_request(invoice: Invoice, *, customer_id: str | None = None) -> PaymentRequest:
    if invoice.status not in PAYABLE_STATUSES:
        raise InvalidState(f"An invoice that is {invoice.status.value} cannot be paid.")
    return PaymentRequest(invoice_id=invoice.id, amount=invoice.amount_due, customer_id=customer_id)


def refund_request(
    invoice: Invoice, *, amount: Money | None = None, reason: RefundReason = RefundReason.REQUESTED_BY_CUSTOMER
) -> RefundRequest:
    """Check a refund before asking the provider: paid, tracked payment, positive, at most what is left."""
    if invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED) or invoice.payment_id is None:
        raise InvalidState(f"An invoice that is {invoice.status.value} cannot be refunded.")
    if amount is not None:
        validate_money(amount, field="amount", positive=True)
        if amount.currency != invoice.currency:
            raise ValidationFailed("Refund in the invoice's currency.", code="currency_mismatch", field="amount")
        if amount.amount_minor > invoice.refundable_minor:
            raise ValidationFailed(
                f"At most {invoice.refundable_minor} can be refunded.", code="refund_too_large", field="amount"
            )
    return RefundRequest(invoice_id=invoice.id, payment_id=invoice.payment_id, amount=amount, reason=reason)


def void_refund_request(invoice: Invoice, payment_id: str) -> RefundRequest:
    """Refund all of a payment that reached the invoice after it was voided (outcome `refund`)."""
    if invoice.status is not InvoiceStatus.VOID:
        raise InvalidState(f"An invoice that is {invoice.status.value} keeps its payments.")
    return RefundRequest(invoice_id=invoice.id, payment_id=payment_id)


# ---------------------------------------------------------------------------------------------- settlement


def _conflict(detail: str, code: str) -> Conflict:
    return Conflict(detail, code=code)


def _tracks(invoice: Invoice, payment_id: str) -> bool:
    return invoice.payment_id is None or invoice.payment_id == payment_id


def _succeeded(invoice: Invoice, payment_id: str, received: Money, at: datetime) -> Invoice:
    if invoice.status in SETTLED_STATUSES:
        if invoice.payment_id == payment_id:
            return invoice  # already known
        raise _conflict("A second payment arrived for a paid invoice; refund it.", "duplicate_payment")
    if invoice.status not in PAYABLE_STATUSES:
        raise _conflict(f"A payment arrived for a {invoice.status.value} invoice; refund it.", "unexpected_payment")
    if not _tracks(invoice, payment_id):
        raise _conflict("A payment the invoice does not track succeeded.", "payment_mismatch")
    if received != invoice.amount_due:
        raise _conflict("The amount received is not the amount due.", "payment_amount_mismatch")
    return _move(
        invoice,
        InvoiceStatus.PAID,
        payment_id=payment_id,
        amount_paid_minor=received.amount_minor,
        paid_at=ensure_utc(at, field="at"),
        failure_code=None,
    )


def _processing(invoice: Invoice, payment_id: str) -> Invoice:
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAYMENT_FAILED) or not _tracks(invoice, payment_id):
        return invoice  # late or unrelated: the invoice already knows better
    return _move(invoice, InvoiceStatus.PROCESSING, payment_id=payment_id, failure_code=None)


def _failed(invoice: Invoice, payment_id: str, failure_code: str) -> Invoice:
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PROCESSING) or not _tracks(invoice, payment_id):
        return invoice
    return _move(invoice, InvoiceStatus.PAYMENT_FAILED, payment_id=payment_id, failure_code=failure_code)


def _adopt(invoice: Invoice, payment_id: str) -> Invoice:
    if invoice.payment_id == payment_id:
        return invoice
    if invoice.payment_id is not None:
        raise _conflict("This invoice already tracks another payment.", "payment_mismatch")
    return _next(invoice, payment_id=payment_id)


def record_intent(invoice: Invoice, intent: PaymentIntent, *, at: datetime) -> Invoice:
    """Apply what the provider answered to a create/confirm call. `succeeded` pays the invoice, `processing`
    marks it, a decline marks it failed; otherwise (awaiting the client's card or authentication) the invoice
    starts tracking the payment and stays open."""
    if intent.invoice_id is not None and intent.invoice_id != invoice.id:
        raise _conflict("The payment belongs to another invoice.", "payment_mismatch")
    if invoice.status not in PAYABLE_STATUSES | SETTLED_STATUSES:
        raise InvalidState(f"An invoice that is {invoice.status.value} cannot be paid.")
    if intent.amount != invoice.amount_due:
        raise _conflict("The payment is not for the amount due.", "payment_amount_mismatch")
    match intent.status:
        case IntentStatus.SUCCEEDED:
            received = Money(intent.amount_received_minor, intent.amount.currency)
            return _succeeded(invoice, intent.payment_id, received, at)
        case IntentStatus.PROCESSING:
            return _processing(invoice, intent.payment_id)
        case IntentStatus.CANCELED:
            return _failed(invoice, intent.payment_id, "canceled")
        case IntentStatus.REQUIRES_PAYMENT_METHOD if intent.failure_code:
            return _failed(invoice, intent.payment_id, intent.failure_code)
        case _:
            if invoice.status in SETTLED_STATUSES:
                return invoice
            return _adopt(invoice, intent.payment_id)


def record_decline(invoice: Invoice, *, payment_id: str | None, failure_code: str) -> Invoice:
    """A charge the provider declined (`PaymentDeclined` / `PaymentActionRequired` from the gateway)."""
    if invoice.status not in PAYABLE_STATUSES:
        raise InvalidState(f"An invoice that is {invoice.status.value} cannot be paid.")
    if payment_id is None:
        if invoice.status is InvoiceStatus.PAYMENT_FAILED:
            return invoice
        return _move(invoice, InvoiceStatus.PAYMENT_FAILED, failure_code=failure_code)
    return _failed(invoice, payment_id, failure_code)


def _refunded(invoice: Invoice, *, refund_id: str, payment_id: str, amount: Money, at: datetime) -> Invoice:
    if any(r.refund_id == refund_id for r in invoice.refunds):
        return invoice
    if invoice.status not in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED):
        raise InvalidState(f"An invoice that is {invoice.status.value} cannot be refunded.")
    if payment_id != invoice.payment_id:
        raise _conflict("A refund of a payment this invoice does not track.", "payment_mismatch")
    if amount.currency != invoice.currency or amount.amount_minor <= 0:
        raise _conflict("A refund in another currency or of nothing.", "refund_mismatch")
    refunded = invoice.amount_refunded_minor + amount.amount_minor
    if refunded > invoice.amount_paid_minor:
        raise _conflict("Refunds exceed the amount paid.", "refund_mismatch")
    record = RecordedRefund(refund_id, amount.amount_minor, ensure_utc(at, field="at"))
    changes: dict[str, Any] = {"amount_refunded_minor": refunded, "refunds": (*invoice.refunds, record)}
    if refunded == invoice.amount_paid_minor:
        return _move(invoice, InvoiceStatus.REFUNDED, **changes)
    if invoice.status is InvoiceStatus.PARTIALLY_REFUNDED:
        return _next(invoice, **changes)
    return _move(invoice, InvoiceStatus.PARTIALLY_REFUNDED, **changes)


def record_refund(invoice: Invoice, refund: RefundResult, *, at: datetime) -> Invoice:
    """Apply the provider's answer to a refund. The same refund id twice counts once; a failed or canceled
    refund changes nothing."""
    if refund.invoice_id is not None and refund.invoice_id != invoice.id:
        raise _conflict("The refund belongs to another invoice.", "payment_mismatch")
    if not refund.counts:
        return invoice
    return _refunded(invoice, refund_id=refund.refund_id, payment_id=refund.payment_id, amount=refund.amount, at=at)


# ---------------------------------------------------------------------------------------------- webhooks


class EventOutcome(StrEnum):
    APPLIED = "applied"  # the invoice changed
    IGNORED = "ignored"  # verified and recorded, but stale or already known: no change of state
    DUPLICATE = "duplicate"  # this event id was processed before: nothing at all changed
    REFUND = "refund"  # money arrived for a void invoice: not applied, to be refunded (`void_refund_request`)


@dataclass(frozen=True, slots=True)
class EventResult:
    invoice: Invoice
    outcome: EventOutcome


def apply_payment_event(invoice: Invoice, event: PaymentEvent) -> EventResult:
    """Process one verified provider event for `invoice`, idempotently by `event.event_id`.

    A duplicate returns the very same invoice. Otherwise the event id is recorded (so the result must be
    stored even when the outcome is `ignored`)."""
    if event.event_id in invoice.processed_events:
        return EventResult(invoice, EventOutcome.DUPLICATE)
    if event.invoice_id is not None and event.invoice_id != invoice.id:
        raise _conflict("The event belongs to another invoice.", "payment_mismatch")
    if invoice.status is InvoiceStatus.VOID and event.kind is PaymentEventKind.SUCCEEDED:
        # A payment that completed although the invoice was voided (it was under way while the void ran and so
        # could not be canceled). The client owes nothing here, so the money goes back to them in full, without
        # waiting for a person: applied, it would turn a final void into paid and count in the therapist's
        # totals; only flagged, it would stay with the practice until someone noticed. A second payment of a paid
        # invoice or a wrong amount stay conflicts: which money to give back there is a person's decision.
        recorded = replace(
            invoice, processed_events=invoice.processed_events | {event.event_id}, version=invoice.version + 1
        )
        return EventResult(recorded, EventOutcome.REFUND)
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) and event.kind is not PaymentEventKind.SUCCEEDED:
        updated = invoice
    else:
        match event.kind:
            case PaymentEventKind.SUCCEEDED:
                updated = _succeeded(invoice, event.payment_id, event.amount, event.occurred_at)
            case PaymentEventKind.PROCESSING:
                updated = _processing(invoice, event.payment_id)
            case PaymentEventKind.FAILED:
                updated = _failed(invoice, event.payment_id, event.failure_code or "payment_failed")
            case PaymentEventKind.CANCELED:
                updated = _failed(invoice, event.payment_id, event.failure_code or "canceled")
            case PaymentEventKind.REFUNDED:
                if event.refund_id is None:
                    raise ValidationFailed("A refund event names its refund.", code="invalid_event")
                updated = _refunded(
                    invoice,
                    refund_id=event.refund_id,
                    payment_id=event.payment_id,
                    amount=event.amount,
                    at=event.occurred_at,
                )
    outcome = EventOutcome.IGNORED if updated is invoice else EventOutcome.APPLIED
    recorded = replace(
        updated, processed_events=updated.processed_events | {event.event_id}, version=invoice.version + 1
    )
    return EventResult(recorded, outcome)
