"""The payment provider port and the provider-neutral values that cross it.

Nothing clinical crosses this port: a payment carries an invoice id, an amount and the provider's customer and
payment-method ids, never a diagnosis, a CPT code or a description of the session.

Idempotency: every call that moves money takes an `idempotency_key`. Repeating a call with the same key and the
same request returns the first result and never charges or refunds twice; the same key with a different
request raises `IdempotencyKeyReused`. `domain.billing.invoices` derives the keys from the invoice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.scheduling.model import Money


class IntentStatus(StrEnum):
    """A provider payment's state (named after Stripe's PaymentIntent, the common shape of card APIs)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """Collect `amount` for `invoice_id`. `customer_id` is the provider's customer for the client, if any."""

    invoice_id: uuid.UUID
    amount: Money
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """The provider's payment. `client_secret` lets the client's browser confirm it (on-session card entry);
    `failure_code` is the last decline code, if any."""

    payment_id: str
    status: IntentStatus
    amount: Money
    amount_received_minor: int = 0
    invoice_id: uuid.UUID | None = None
    client_secret: str | None = None
    failure_code: str | None = None


class RefundReason(StrEnum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"


class RefundStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Refund `amount` (None: everything not yet refunded) of `payment_id`, which paid `invoice_id`."""

    invoice_id: uuid.UUID
    payment_id: str
    amount: Money | None = None
    reason: RefundReason = RefundReason.REQUESTED_BY_CUSTOMER


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: str
    payment_id: str
    amount: Money
    status: RefundStatus
    invoice_id: uuid.UUID | None = None

    @property
    def counts(self) -> bool:
        """Pending and succeeded refunds count against the invoice; failed and canceled ones do not."""
        return self.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class PaymentEventKind(StrEnum):
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified provider webhook, in domain terms.

    `event_id` is the provider's event id (the idempotency key of webhook processing). `amount` is the amount
    received for `succeeded`, the payment's amount for the other payment kinds, and the refund's amount for
    `refunded` (then `refund_id` is set). `invoice_id` comes from the metadata Hearth attached, when present.

    For the payment kinds, `customer_id` and `payment_method_id` are the payment's provider customer and card
    (None when it has none), and `keeps_method_off_session` says the provider keeps that card on that customer
    for later off-session payments once the payment succeeds (Stripe's `setup_future_usage=off_session`).
    """

    event_id: str
    kind: PaymentEventKind
    payment_id: str
    amount: Money
    occurred_at: datetime
    invoice_id: uuid.UUID | None = None
    refund_id: str | None = None
    failure_code: str | None = None
    customer_id: str | None = None
    payment_method_id: str | None = None
    keeps_method_off_session: bool = False


class PaymentGateway(Protocol):
    """A card payment provider. Failures raise `domain.billing.errors` (`PaymentDeclined`,
    `PaymentActionRequired`, `PaymentRejected`, `PaymentProviderUnavailable`, `IdempotencyKeyReused`)."""

    async def create_payment_intent(self, request: PaymentRequest, *, idempotency_key: str) -> PaymentIntent:
        """A payment for the client to confirm with their card on-session (the result has a `client_secret`)."""
        ...

    async def pay_with_method(
        self,
        request: PaymentRequest,
        *,
        payment_method_id: str,
        idempotency_key: str,
        save_for_fees: bool = False,
    ) -> PaymentIntent:
        """Create and confirm a payment on-session with a payment method the client's browser just created with
        the provider's card form (it never passes card numbers through Hearth). A decline raises
        `PaymentDeclined`; a bank asking for authentication answers `requires_action` with a `client_secret`.
        `save_for_fees` (with `request.customer_id`) keeps the card on the customer for later off-session fees."""
        ...

    async def create_customer(self, *, client_id: uuid.UUID, idempotency_key: str) -> str:
        """The provider's customer for a client (who may keep a card for fees); only the client id is sent."""
        ...

    async def charge_saved_method(
        self, request: PaymentRequest, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> PaymentIntent:
        """Create and confirm a payment off-session with the client's saved card (late-cancellation and
        no-show fees). A decline raises `PaymentDeclined` (with the created `payment_id`); a bank asking for
        authentication raises `PaymentActionRequired`."""
        ...

    async def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> PaymentIntent:
        """Cancel a payment that has not succeeded, so that it never can: the client can no longer confirm or
        authenticate it. Returns the payment as the provider now has it: `canceled` (also when it was canceled
        before), or, when it could no longer be canceled, its actual state: `succeeded` (the money was taken),
        or `processing` when the provider will not stop a payment under way."""
        ...

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundResult: ...

    def parse_webhook(self, payload: bytes, signature_header: str) -> PaymentEvent | None:
        """Verify a webhook's signature and freshness over the raw body and translate it. Raises
        `InvalidWebhook`; returns None for a verified event Hearth does not act on (acknowledge it)."""
        ...
