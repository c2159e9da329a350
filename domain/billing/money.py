"""Money for billing: integer minor units and one ISO 4217 currency; never floats.

Amounts reuse `domain.scheduling.model.Money` (the therapist profile's rates are already that type).
Percentages are basis points (1 bp = 0.01 %, 10 000 bp = 100 %). The only rounding in billing is here:
`round_half_up` rounds a non-negative exact fraction to the nearest minor unit, a half going up
(1 234 cents at 2.5 % = 30.85 -> 31 cents; 30.849... -> 30). It is applied once per amount that is charged
(one fee, one invoice's platform fee), never to sums of already-rounded amounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.scheduling.model import Money
from domain.shared.errors import ValidationFailed
from domain.shared.iso import check_currency

__all__ = [
    "BASIS_POINTS_PER_WHOLE",
    "Money",
    "add",
    "basis_points_of",
    "check_basis_points",
    "check_currency",
    "check_same_currency",
    "money",
    "round_half_up",
    "subtract",
    "total",
    "validate_money",
    "zero",
]

BASIS_POINTS_PER_WHOLE = 10_000
MAX_AMOUNT_MINOR = 100_000_000  # one million in a two-decimal currency: far above any session


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_money(value: Money, *, field: str = "amount", positive: bool = False) -> Money:
    """`value` if its amount is a non-negative (or, with `positive`, a positive) integer of minor units within
    bounds and its currency an ISO code; else `ValidationFailed` (`invalid_amount` / `invalid_currency`)."""
    if not isinstance(value, Money):
        raise ValidationFailed("An amount is Money(amount_minor, currency).", code="invalid_amount", field=field)
    amount = value.amount_minor
    lowest = 1 if positive else 0
    if not _is_int(amount) or not lowest <= amount <= MAX_AMOUNT_MINOR:
        raise ValidationFailed(
            f"An amount is an integer of minor units from {lowest} to {MAX_AMOUNT_MINOR}.",
            code="invalid_amount",
            field=field,
        )
    check_currency(value.currency, field=field)
    return value


def money(amount_minor: int, currency: str) -> Money:
    """A validated `Money`."""
    return validate_money(Money(amount_minor, currency))


def zero(currency: str) -> Money:
    return Money(0, check_currency(currency))


def check_same_currency(*values: Money, field: str = "currency") -> str:
    """The one currency all `values` share, else `ValidationFailed(code="currency_mismatch")`."""
    currencies = {v.currency for v in values}
    if len(currencies) != 1:
        raise ValidationFailed(
            "Amounts in different currencies cannot be combined: " + ", ".join(sorted(currencies)) + ".",
            code="currency_mismatch",
            field=field,
        )
    return currencies.pop()


def add(a: Money, b: Money) -> Money:
    return Money(a.amount_minor + b.amount_minor, check_same_currency(a, b))


def subtract(a: Money, b: Money) -> Money:
    """May be negative (a statement's net under a subscription)."""
    return Money(a.amount_minor - b.amount_minor, check_same_currency(a, b))


def total(values: Iterable[Money], *, currency: str) -> Money:
    result = zero(currency)
    for value in values:
        result = add(result, value)
    return result


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded to the nearest integer, halves up. Both non-negative, denominator > 0."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + 1 if 2 * remainder >= denominator else quotient


def check_basis_points(bp: int, *, field: str, maximum: int = BASIS_POINTS_PER_WHOLE) -> int:
    if not _is_int(bp) or not 0 <= bp <= maximum:
        raise ValidationFailed(
            f"A percentage is 0 to {maximum} basis points (100 bp = 1 %).", code="invalid_percentage", field=field
        )
    return bp


def basis_points_of(amount: Money, bp: int) -> Money:
    """`bp` basis points of a non-negative `amount`, rounded half-up to the minor unit."""
    check_basis_points(bp, field="basis_points")
    if amount.amount_minor < 0:
        raise ValidationFailed("A percentage is taken of a non-negative amount.", code="invalid_amount")
    return Money(round_half_up(amount.amount_minor * bp, BASIS_POINTS_PER_WHOLE), amount.currency)
