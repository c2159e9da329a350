"""Prices: session rates, sliding scale, late-cancellation and no-show fees, the platform fee, statements.

* **Session price** is by the *booked* length and the modality booked: an exact (length, modality) rate wins
  over a rate for that length in any modality. A client on the sliding scale pays their own price instead (for
  that length, else for any length). Coding follows the real minutes; the price follows what was booked.
* **Missed-session fees** come only from the cancellation policy the client accepted when booking: the
  appointment stores the accepted `policy_version`, and the fee is computed from *that* version, never from the
  therapist's current policy. No accepted policy, or an accepted policy without a fee for that case, means no
  fee. A fee is flat, or a percentage of the session price (basis points, rounded half-up).
* **Platform fee** an independent therapist pays: either a percentage (basis points) of each paid invoice's
  collected amount (paid minus refunded; rounded half-up per invoice), or a flat monthly subscription.
* **Monthly statement** in the therapist's time zone: `gross` is what was collected on invoices paid in the
  month (minus their refunds), `platform_fee` as above (the subscription is due every month, even a quiet one,
  so `net` may be negative), `net = gross - platform_fee`, and `outstanding` the amounts due on invoices issued
  in the month that are not paid yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from domain.billing.invoices import OUTSTANDING_STATUSES, SETTLED_STATUSES, Invoice
from domain.billing.money import (
    Money,
    basis_points_of,
    check_basis_points,
    check_currency,
    subtract,
    total,
    validate_money,
    zero,
)
from domain.scheduling.localtime import load_zone
from domain.scheduling.model import AppointmentStatus, Modality, TherapistProfile, validate_duration
from domain.shared.errors import Conflict, NotFound, ValidationFailed

# ---------------------------------------------------------------------------------------------- rates


@dataclass(frozen=True, slots=True)
class Rate:
    """The price of a session of `minutes`; `modality` None means any modality."""

    minutes: int
    price: Money
    modality: Modality | None = None


@dataclass(frozen=True, slots=True)
class RateCard:
    currency: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True, slots=True)
class SlidingScalePrice:
    """A client's own price per session, for one length (`minutes`) or for any length (None)."""

    client_id: uuid.UUID
    price: Money
    minutes: int | None = None


def _bad_rate(detail: str, field: str = "rates") -> ValidationFailed:
    return ValidationFailed(detail, code="invalid_rate", field=field)


def validate_rate_card(card: RateCard) -> RateCard:
    """Valid lengths (10-60 in steps of 5), one currency, non-negative prices, no (length, modality) twice."""
    check_currency(card.currency)
    seen: set[tuple[int, Modality | None]] = set()
    for rate in card.rates:
        validate_duration(rate.minutes, field="rates")
        validate_money(rate.price, field="rates")
        if rate.price.currency != card.currency:
            raise _bad_rate("All rates use the card's currency.")
        key = (rate.minutes, rate.modality)
        if key in seen:
            raise _bad_rate(f"Two rates for {rate.minutes} minutes ({rate.modality or 'any modality'}).")
        seen.add(key)
    return card


def rate_card_from_profile(profile: TherapistProfile, *, currency: str) -> RateCard:
    """The profile's per-length rates as a card valid in any modality."""
    rates = tuple(Rate(minutes, price) for minutes, price in sorted(profile.rates.items()))
    return validate_rate_card(RateCard(currency, rates))


def validate_sliding_scale(prices: Sequence[SlidingScalePrice], *, currency: str) -> None:
    seen: set[tuple[uuid.UUID, int | None]] = set()
    for entry in prices:
        validate_money(entry.price, field="sliding_scale")
        if entry.price.currency != currency:
            raise _bad_rate("A sliding-scale price uses the rates' currency.", "sliding_scale")
        if entry.minutes is not None:
            validate_duration(entry.minutes, field="sliding_scale")
        key = (entry.client_id, entry.minutes)
        if key in seen:
            raise _bad_rate("Two sliding-scale prices for the same client and length.", "sliding_scale")
        seen.add(key)


def session_price(
    card: RateCard,
    *,
    minutes: int,
    modality: Modality,
    client_id: uuid.UUID | None = None,
    sliding_scale: Sequence[SlidingScalePrice] = (),
) -> Money:
    """The price of a booked session; `NotFound(code="no_rate")` when the therapist set none for it."""
    validate_duration(minutes)
    if client_id is not None:
        mine = [p for p in sliding_scale if p.client_id == client_id]
        for wanted in (minutes, None):
            for entry in mine:
                if entry.minutes == wanted:
                    return entry.price
    for wanted_modality in (modality, None):
        for rate in card.rates:
            if rate.minutes == minutes and rate.modality == wanted_modality:
                return rate.price
    raise NotFound(f"No rate for a {minutes}-minute {modality.value} session.", code="no_rate")


# ---------------------------------------------------------------------------------------------- policy fees


@dataclass(frozen=True, slots=True)
class FeeRule:
    """Exactly one of a flat amount or a percentage (basis points, at most 100 %) of the session price."""

    flat: Money | None = None
    percent_bp: int | None = None


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    """One version of a therapist's cancellation policy, as shown to (and accepted by) the client at booking.
    A version never changes once a client has accepted it; a change makes a new version."""

    therapist_id: uuid.UUID
    version: int
    window_hours: int
    late_cancellation: FeeRule | None = None
    no_show: FeeRule | None = None


MAX_POLICY_WINDOW_HOURS = 168


def validate_fee_rule(rule: FeeRule, *, field: str) -> None:
    if (rule.flat is None) == (rule.percent_bp is None):
        raise ValidationFailed("A fee is either flat or a percentage.", code="invalid_policy", field=field)
    if rule.flat is not None:
        validate_money(rule.flat, field=field)
    if rule.percent_bp is not None:
        check_basis_points(rule.percent_bp, field=field)


def validate_policy(policy: CancellationPolicy) -> CancellationPolicy:
    if isinstance(policy.version, bool) or not isinstance(policy.version, int) or policy.version < 1:
        raise ValidationFailed("A policy version is 1 or more.", code="invalid_policy", field="version")
    if not 0 <= policy.window_hours <= MAX_POLICY_WINDOW_HOURS:
        raise ValidationFailed(
            f"The window is 0 to {MAX_POLICY_WINDOW_HOURS} hours.", code="invalid_policy", field="window_hours"
        )
    if policy.late_cancellation is not None:
        validate_fee_rule(policy.late_cancellation, field="late_cancellation")
    if policy.no_show is not None:
        validate_fee_rule(policy.no_show, field="no_show")
    return policy


def _fee(rule: FeeRule, session_price: Money) -> Money:
    if rule.flat is not None:
        if rule.flat.currency != session_price.currency:
            raise ValidationFailed("The fee and the session differ in currency.", code="currency_mismatch")
        return rule.flat
    return basis_points_of(session_price, rule.percent_bp or 0)


def missed_session_fee(
    *,
    status: AppointmentStatus,
    therapist_id: uuid.UUID,
    accepted_policy_version: int | None,
    accepted_policy: CancellationPolicy | None,
    session_price: Money,
) -> Money | None:
    """The fee for a late-cancelled or no-show appointment, or None when there is none.

    `accepted_policy_version` is what the appointment stored at booking; `accepted_policy` is that version as
    loaded by the caller. Passing any other version (the therapist's current one, say) is a
    `Conflict(code="policy_version_mismatch")`: a client is only ever charged what they agreed to.
    """
    if status is AppointmentStatus.LATE_CANCELLED:
        pick = "late_cancellation"
    elif status is AppointmentStatus.NO_SHOW:
        pick = "no_show"
    else:
        return None
    if accepted_policy_version is None:
        return None  # the client accepted no policy, so owes no fee
    if accepted_policy is None:
        raise NotFound("The accepted cancellation policy is missing.", code="policy_not_found")
    if accepted_policy.version != accepted_policy_version or accepted_policy.therapist_id != therapist_id:
        raise Conflict("That is not the policy the client accepted.", code="policy_version_mismatch")
    validate_policy(accepted_policy)
    validate_money(session_price, field="session_price")
    rule = accepted_policy.late_cancellation if pick == "late_cancellation" else accepted_policy.no_show
    if rule is None:
        return None
    fee = _fee(rule, session_price)
    return fee if fee.amount_minor > 0 else None


# ---------------------------------------------------------------------------------------------- platform fee


class PlatformFeeMode(StrEnum):
    PERCENT_PER_INVOICE = "percent_per_invoice"
    MONTHLY_SUBSCRIPTION = "monthly_subscription"


@dataclass(frozen=True, slots=True)
class PlatformFeePlan:
    mode: PlatformFeeMode
    percent_bp: int = 0  # PERCENT_PER_INVOICE
    monthly: Money | None = None  # MONTHLY_SUBSCRIPTION

    def __post_init__(self) -> None:
        if self.mode is PlatformFeeMode.PERCENT_PER_INVOICE:
            check_basis_points(self.percent_bp, field="percent_bp")
            if self.monthly is not None:
                raise ValidationFailed("A percentage plan has no subscription.", code="invalid_plan")
        else:
            if self.monthly is None or self.percent_bp:
                raise ValidationFailed("A subscription plan has a monthly price only.", code="invalid_plan")
            validate_money(self.monthly, field="monthly")


def platform_fee_for_invoice(plan: PlatformFeePlan, invoice: Invoice) -> Money:
    """The platform's share of one invoice: a percentage of what it collected, or nothing under a
    subscription (which is charged per month, see `monthly_statement`)."""
    if plan.mode is PlatformFeeMode.MONTHLY_SUBSCRIPTION or invoice.status not in SETTLED_STATUSES:
        return zero(invoice.currency)
    return basis_points_of(invoice.collected, plan.percent_bp)


# ---------------------------------------------------------------------------------------------- statement


@dataclass(frozen=True, slots=True)
class MonthlyStatement:
    therapist_id: uuid.UUID
    year: int
    month: int
    gross: Money
    platform_fee: Money
    net: Money
    outstanding: Money
    paid_invoices: int
    outstanding_invoices: int


def month_bounds(year: int, month: int, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in `timezone`, as UTC instants."""
    if not 1 <= month <= 12 or not 2000 <= year <= 9998:
        raise ValidationFailed("A month is 1-12 of a year from 2000.", code="invalid_month", field="month")
    zone = load_zone(timezone)
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(following, time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def monthly_statement(
    *,
    therapist_id: uuid.UUID,
    year: int,
    month: int,
    timezone: str,
    currency: str,
    plan: PlatformFeePlan,
    invoices: Iterable[Invoice],
) -> MonthlyStatement:
    """A therapist's earnings for one month (see the module docstring). Only `therapist_id`'s invoices count;
    an invoice in another currency is `ValidationFailed(code="currency_mismatch")`."""
    check_currency(currency)
    if plan.monthly is not None and plan.monthly.currency != currency:
        raise ValidationFailed("The subscription is in another currency.", code="currency_mismatch")
    start, end = month_bounds(year, month, timezone)
    paid: list[Invoice] = []
    unpaid: list[Invoice] = []
    for invoice in invoices:
        if invoice.therapist_id != therapist_id:
            continue
        if invoice.currency != currency:
            raise ValidationFailed(f"Invoice {invoice.id} is in {invoice.currency}.", code="currency_mismatch")
        if invoice.status in SETTLED_STATUSES and invoice.paid_at is not None and start <= invoice.paid_at < end:
            paid.append(invoice)
        elif (
            invoice.status in OUTSTANDING_STATUSES
            and invoice.issued_at is not None
            and start <= invoice.issued_at < end
        ):
            unpaid.append(invoice)
    gross = total((i.collected for i in paid), currency=currency)
    if plan.mode is PlatformFeeMode.MONTHLY_SUBSCRIPTION:
        fee = plan.monthly or zero(currency)
    else:
        fee = total((platform_fee_for_invoice(plan, i) for i in paid), currency=currency)
    return MonthlyStatement(
        therapist_id=therapist_id,
        year=year,
        month=month,
        gross=gross,
        platform_fee=fee,
        net=subtract(gross, fee),
        outstanding=total((i.amount_due for i in unpaid), currency=currency),
        paid_invoices=len(paid),
        outstanding_invoices=len(unpaid),
    )
