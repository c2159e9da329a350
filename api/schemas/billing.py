"""Billing contract: prices and policy, claim records, charges and coding overrides, invoices, payments,
refunds, statements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.problem import Problem
from api.schemas.types import MAX_INT, IsoDate, RequestModel
from domain.billing.coding import Coding
from domain.billing.fees import CancellationPolicy, FeeRule, MonthlyStatement, PlatformFeeMode, PlatformFeePlan
from domain.billing.invoices import Invoice
from domain.billing.money import Money
from domain.billing.service import ChargeView, InvoiceView
from domain.billing.storage import BillingSettings, ClaimRecord
from domain.scheduling.policy import CancellationTerms, LateFeeNotAccepted

Currency = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        examples=["USD"],
        description="An ISO 4217 code whose minor unit has 0 or 2 decimals (else 422 invalid_currency)",
    ),
]
AmountMinor = Annotated[
    int,
    Field(strict=True, ge=0, le=100_000_000, description="Minor units in the currency's ISO 4217 exponent"),
]
Minutes = Annotated[int, Field(strict=True, ge=10, le=60, multiple_of=5)]
ModalityName = Literal["video", "audio", "phone", "chat"]


class MoneyOut(BaseModel):
    amount_minor: int
    currency: str

    @classmethod
    def of(cls, m: Money) -> MoneyOut:
        return cls(amount_minor=m.amount_minor, currency=m.currency)


# ---------------------------------------------------------------------------------------------- settings


class RateIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: Minutes
    modality: ModalityName | None = Field(default=None, description="None: any modality of that length")
    amount_minor: AmountMinor


class SlidingScaleIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: uuid.UUID
    minutes: Minutes | None = Field(default=None, description="None: any length")
    amount_minor: AmountMinor


class BillingSettingsIn(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "currency": "USD",
                    "rates": [{"minutes": 50, "modality": None, "amount_minor": 15000}],
                    "check_in_amount_minor": 3000,
                    "sliding_scale": [],
                    "invoice_schedule": "per_charge",
                    "npi": "1234567893",
                    "tax_id": "12-3456789",
                }
            ]
        },
    )
    currency: Currency
    rates: list[RateIO] = Field(max_length=100)
    check_in_amount_minor: AmountMinor | None = Field(default=None, description="Price of a brief check-in")
    sliding_scale: list[SlidingScaleIO] = Field(default_factory=list, max_length=500)
    invoice_schedule: Literal["per_charge", "monthly"] = "per_charge"
    npi: str | None = Field(default=None, pattern=r"^[0-9]{10}$", description="National Provider Identifier")
    tax_id: str | None = Field(default=None, min_length=2, max_length=20, pattern=r"^[0-9A-Za-z-]+$")


class BillingSettingsOut(BaseModel):
    currency: str
    rates: list[RateIO]
    check_in_amount_minor: int | None
    sliding_scale: list[SlidingScaleIO]
    invoice_schedule: str
    npi: str | None
    tax_id: str | None
    version: int

    @classmethod
    def of(cls, s: BillingSettings) -> BillingSettingsOut:
        return cls(
            currency=s.card.currency,
            rates=[
                RateIO(
                    minutes=r.minutes,
                    modality=r.modality.value if r.modality else None,
                    amount_minor=r.price.amount_minor,
                )
                for r in s.card.rates
            ],
            check_in_amount_minor=s.check_in_price.amount_minor if s.check_in_price else None,
            sliding_scale=[
                SlidingScaleIO(client_id=p.client_id, minutes=p.minutes, amount_minor=p.price.amount_minor)
                for p in s.sliding_scale
            ],
            invoice_schedule=s.invoice_schedule.value,
            npi=s.npi,
            tax_id=s.tax_id,
            version=s.version,
        )


# ---------------------------------------------------------------------------------------------- policy


class FeeRuleIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flat_amount_minor: AmountMinor | None = None
    percent_bp: int | None = Field(default=None, strict=True, ge=0, le=10_000, description="100 bp = 1 %")


class PolicyIn(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "window_hours": 24,
                    "late_cancellation": {"flat_amount_minor": 5000},
                    "no_show": {"percent_bp": 10000},
                }
            ]
        },
    )
    window_hours: int = Field(strict=True, ge=0, le=168)
    late_cancellation: FeeRuleIO | None = None
    no_show: FeeRuleIO | None = None


class CancellationTermsOut(BaseModel):
    appointment_id: uuid.UUID
    policy_version: int | None = Field(
        description="The cancellation policy version the client accepted at booking; null: none, so no fee"
    )
    window_hours: int
    late_from: datetime = Field(description="A client's cancellation from this moment on is a late cancellation")
    late_now: bool = Field(description="Cancelling now (as the caller) would be a late cancellation")
    late_cancellation_fee: MoneyOut | None = Field(
        description="What a late cancellation of this session costs the client under the accepted policy; null: nothing"
    )

    @classmethod
    def of(cls, t: CancellationTerms) -> CancellationTermsOut:
        return cls(
            appointment_id=t.appointment_id,
            policy_version=t.policy_version,
            window_hours=t.window_hours,
            late_from=t.late_from,
            late_now=t.late_now,
            late_cancellation_fee=MoneyOut.of(t.late_cancellation_fee) if t.late_cancellation_fee else None,
        )


class LateFeeProblem(Problem):
    """A refused cancel: `late_fee_not_accepted` carries what to show the client before they try again."""

    late_fee: MoneyOut | None = Field(
        default=None,
        description="`late_fee_not_accepted`: the fee this cancellation would charge now; send it back as "
        "`accept_late_fee` once the client accepts it",
    )
    cancellation_terms: CancellationTermsOut | None = Field(
        default=None, description="`late_fee_not_accepted`: the appointment's current cancellation terms"
    )

    @classmethod
    def extensions(cls, refused: LateFeeNotAccepted) -> dict[str, Any]:
        """The problem body's fields beyond RFC 9457's, as JSON."""
        return {
            "late_fee": MoneyOut.of(refused.fee_due).model_dump(mode="json"),
            "cancellation_terms": CancellationTermsOut.of(refused.terms).model_dump(mode="json"),
        }


class PolicyOut(BaseModel):
    therapist_id: uuid.UUID
    version: int = Field(description="Send it as `policy_version` when booking: the version the client accepts")
    window_hours: int
    late_cancellation: FeeRuleIO | None
    no_show: FeeRuleIO | None

    @classmethod
    def of(cls, p: CancellationPolicy) -> PolicyOut:
        return cls(
            therapist_id=p.therapist_id,
            version=p.version,
            window_hours=p.window_hours,
            late_cancellation=_rule_out(p.late_cancellation),
            no_show=_rule_out(p.no_show),
        )


def _rule_out(rule: FeeRule | None) -> FeeRuleIO | None:
    if rule is None:
        return None
    return FeeRuleIO(flat_amount_minor=rule.flat.amount_minor if rule.flat else None, percent_bp=rule.percent_bp)


def rule_in(rule: FeeRuleIO | None, currency: str) -> FeeRule | None:
    if rule is None:
        return None
    flat = Money(rule.flat_amount_minor, currency) if rule.flat_amount_minor is not None else None
    return FeeRule(flat=flat, percent_bp=rule.percent_bp)


# ---------------------------------------------------------------------------------------------- claim record


class ClaimRecordIn(RequestModel):
    diagnoses: list[Annotated[str, Field(min_length=3, max_length=8)]] = Field(
        max_length=4, examples=[["F41.1", "F32.0"]], description="ICD-10-CM, the first primary"
    )
    date_of_birth: IsoDate | None = None


class ClaimRecordOut(BaseModel):
    client_id: uuid.UUID
    diagnoses: list[str]
    date_of_birth: date | None
    version: int

    @classmethod
    def of(cls, r: ClaimRecord) -> ClaimRecordOut:
        return cls(client_id=r.client_id, diagnoses=list(r.diagnoses), date_of_birth=r.date_of_birth, version=r.version)


# ---------------------------------------------------------------------------------------------- charges


class OverrideOut(BaseModel):
    field: str
    previous: str | None
    new: str | None
    reason: str
    by: uuid.UUID
    at: datetime


class CodingOut(BaseModel):
    cpt: str | None
    modifier: str | None
    procedure: str | None = Field(description='CPT with modifier as on a claim line: "90834-95"')
    place_of_service: str
    diagnoses: list[str]
    basis: str
    psychotherapy_minutes: int
    chat_minutes: int
    overrides: list[OverrideOut]

    @classmethod
    def of(cls, c: Coding) -> CodingOut:
        return cls(
            cpt=c.cpt,
            modifier=c.modifier,
            procedure=c.procedure,
            place_of_service=c.place_of_service,
            diagnoses=list(c.diagnoses),
            basis=c.basis.value,
            psychotherapy_minutes=c.psychotherapy_minutes,
            chat_minutes=c.chat_minutes,
            overrides=[
                OverrideOut(field=o.field.value, previous=o.previous, new=o.new, reason=o.reason, by=o.by, at=o.at)
                for o in c.overrides
            ],
        )


class InvoiceCodingOut(BaseModel):
    procedure: str | None = Field(description='"90834-95"; None when not billable as a procedure')
    place_of_service: str
    diagnoses: list[str]


class InvoiceOut(BaseModel):
    id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    appointment_id: uuid.UUID
    kind: str
    service_date: date
    amount: MoneyOut
    status: str
    issued_at: datetime | None
    paid_at: datetime | None
    amount_paid_minor: int
    amount_refunded_minor: int
    failure_code: str | None
    policy_version: int | None
    coding: InvoiceCodingOut | None = Field(description="A session's codes, as on the superbill")

    @classmethod
    def of(cls, i: Invoice, coding: Coding | None = None) -> InvoiceOut:
        return cls(
            id=i.id,
            therapist_id=i.therapist_id,
            client_id=i.client_id,
            appointment_id=i.charge.appointment_id,
            kind=i.charge.kind.value,
            service_date=i.charge.service_date,
            amount=MoneyOut.of(i.amount_due),
            status=i.status.value,
            issued_at=i.issued_at,
            paid_at=i.paid_at,
            amount_paid_minor=i.amount_paid_minor,
            amount_refunded_minor=i.amount_refunded_minor,
            failure_code=i.failure_code,
            policy_version=i.charge.policy_version,
            coding=InvoiceCodingOut(
                procedure=coding.procedure, place_of_service=coding.place_of_service, diagnoses=list(coding.diagnoses)
            )
            if coding
            else None,
        )

    @classmethod
    def view(cls, v: InvoiceView) -> InvoiceOut:
        return cls.of(v.invoice, v.coding)


class InvoicePage(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None


class ChargeOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    service_date: date
    amount: MoneyOut
    policy_version: int | None
    coding: CodingOut | None
    invoice: InvoiceOut | None
    version: int

    @classmethod
    def of(cls, v: ChargeView) -> ChargeOut:
        c = v.charge
        return cls(
            id=c.id,
            appointment_id=c.appointment_id,
            therapist_id=c.therapist_id,
            client_id=c.client_id,
            kind=c.kind.value,
            service_date=c.service_date,
            amount=MoneyOut.of(c.amount),
            policy_version=c.policy_version,
            coding=CodingOut.of(v.coding) if v.coding else None,
            invoice=InvoiceOut.of(v.invoice, v.coding) if v.invoice else None,
            version=c.version,
        )


class ChargePage(BaseModel):
    items: list[ChargeOut]
    next_cursor: str | None


class CodingOverrideIn(RequestModel):
    """Only the fields present change; `cpt` or `modifier` null removes the code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Session ran 40 minutes of psychotherapy", "cpt": "90834"}]},
    )
    reason: str = Field(min_length=1, max_length=500)
    cpt: str | None = Field(default=None, max_length=5)
    modifier: str | None = Field(
        default=None, max_length=2, description="A telehealth modifier: 95, 93, GT or FQ (else 422 invalid_coding)"
    )
    place_of_service: str | None = Field(default=None, max_length=2)
    diagnoses: list[Annotated[str, Field(min_length=3, max_length=8)]] | None = Field(default=None, max_length=4)
    expected_version: int | None = Field(
        default=None, strict=True, ge=1, le=MAX_INT, description="The charge version read"
    )


# ---------------------------------------------------------------------------------------------- payments


class PayIn(RequestModel):
    payment_method_id: str = Field(
        min_length=3,
        max_length=255,
        pattern=r"^pm_[A-Za-z0-9_]+$",
        description="A card PaymentMethod created in the browser by the provider's card form",
        examples=["pm_card_visa"],
    )
    save_for_fees: bool = Field(
        default=False,
        strict=True,
        description="Keep this card (at the provider) for late-cancellation and no-show fees, charged off-session",
    )


class PaymentOut(BaseModel):
    invoice: InvoiceOut
    requires_action: bool
    client_secret: str | None = Field(description="For the provider's SDK to authenticate the card (3-D Secure)")


class RefundIn(RequestModel):
    amount_minor: int | None = Field(default=None, strict=True, ge=1, le=100_000_000, description="None: all")
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] = "requested_by_customer"


class PaymentsConfigOut(BaseModel):
    provider: Literal["stripe", "none"] = Field(description="`none`: this server takes no card payments")
    publishable_key: str | None = Field(
        default=None, description="Stripe's publishable key (pk_...) to load Stripe.js with; null without a provider"
    )


class WebhookAck(BaseModel):
    received: bool
    outcome: str


class IssuedOut(BaseModel):
    issued: list[InvoiceOut]


# ---------------------------------------------------------------------------------------------- statements


class StatementOut(BaseModel):
    year: int
    month: int
    gross: MoneyOut
    platform_fee: MoneyOut
    net: MoneyOut
    outstanding: MoneyOut
    paid_invoices: int
    outstanding_invoices: int

    @classmethod
    def of(cls, s: MonthlyStatement) -> StatementOut:
        return cls(
            year=s.year,
            month=s.month,
            gross=MoneyOut.of(s.gross),
            platform_fee=MoneyOut.of(s.platform_fee),
            net=MoneyOut.of(s.net),
            outstanding=MoneyOut.of(s.outstanding),
            paid_invoices=s.paid_invoices,
            outstanding_invoices=s.outstanding_invoices,
        )


class FeePlanOut(BaseModel):
    mode: str
    percent_bp: int
    monthly: MoneyOut | None

    @classmethod
    def of(cls, p: PlatformFeePlan) -> FeePlanOut:
        return cls(
            mode=p.mode.value if isinstance(p.mode, PlatformFeeMode) else str(p.mode),
            percent_bp=p.percent_bp,
            monthly=MoneyOut.of(p.monthly) if p.monthly else None,
        )


class StatementsOut(BaseModel):
    platform_fee_plan: FeePlanOut
    months: list[StatementOut]
