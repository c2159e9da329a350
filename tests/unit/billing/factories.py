"""Builders shared by the billing unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from domain.billing import invoices as inv
from domain.billing.coding import Coding, code_session
from domain.billing.ports import IntentStatus, PaymentEvent, PaymentEventKind, PaymentIntent
from domain.scheduling.model import Modality, Money

THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
OTHER_THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a2")
CLIENT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
PRACTICE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
APPOINTMENT = uuid.UUID("00000000-0000-0000-0000-0000000000d1")
PAYMENT = "pi_test_1"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def coding() -> Coding:
    return code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=["F41.1"])


def draft(
    amount: Money | None = None,
    *,
    therapist_id: uuid.UUID = THERAPIST,
    created_at: datetime | None = None,
    kind: inv.ChargeKind = inv.ChargeKind.SESSION,
) -> inv.Invoice:
    price = amount or usd(14000)
    if kind is inv.ChargeKind.SESSION:
        charge = inv.session_charge(
            appointment_id=APPOINTMENT, service_date=date(2026, 3, 9), price=price, coding=coding()
        )
    else:
        charge = inv.fee_charge(
            kind=kind, appointment_id=APPOINTMENT, service_date=date(2026, 3, 9), fee=price, policy_version=1
        )
    return inv.new_invoice(
        id=uuid.uuid4(),
        practice_id=PRACTICE,
        therapist_id=therapist_id,
        client_id=CLIENT,
        charge=charge,
        created_at=created_at or utc(2026, 3, 9, 15),
    )


def opened(amount: Money | None = None, *, at: datetime | None = None, **kwargs: object) -> inv.Invoice:
    when = at or utc(2026, 3, 9, 15)
    return inv.issue(draft(amount, created_at=when, **kwargs), at=when)  # type: ignore[arg-type]


def paid(amount: Money | None = None, *, at: datetime | None = None, **kwargs: object) -> inv.Invoice:
    invoice = inv.start_payment_attempt(opened(amount, at=at, **kwargs))
    return inv.record_intent(invoice, intent(invoice, IntentStatus.SUCCEEDED), at=at or utc(2026, 3, 9, 16))


def intent(
    invoice: inv.Invoice,
    status: IntentStatus,
    *,
    payment_id: str = PAYMENT,
    failure_code: str | None = None,
    amount: Money | None = None,
) -> PaymentIntent:
    due = amount or invoice.amount_due
    return PaymentIntent(
        payment_id=payment_id,
        status=status,
        amount=due,
        amount_received_minor=due.amount_minor if status is IntentStatus.SUCCEEDED else 0,
        invoice_id=invoice.id,
        failure_code=failure_code,
    )


def event(
    kind: PaymentEventKind,
    *,
    event_id: str = "evt_1",
    payment_id: str = PAYMENT,
    amount: Money | None = None,
    invoice_id: uuid.UUID | None = None,
    refund_id: str | None = None,
    failure_code: str | None = None,
    at: datetime | None = None,
) -> PaymentEvent:
    return PaymentEvent(
        event_id=event_id,
        kind=kind,
        payment_id=payment_id,
        amount=amount or usd(14000),
        occurred_at=at or utc(2026, 3, 9, 16),
        invoice_id=invoice_id,
        refund_id=refund_id,
        failure_code=failure_code,
    )
