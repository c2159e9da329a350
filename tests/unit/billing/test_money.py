from __future__ import annotations

import pytest

from domain.billing.money import add, basis_points_of, money, round_half_up, subtract, total
from domain.scheduling.model import Money
from domain.shared.errors import ValidationFailed


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 7, 0),
        (14, 10, 1),
        (15, 10, 2),
        (16, 10, 2),
        (25, 10, 3),
        (49_999, 10_000, 5),
        (4_999, 10_000, 0),
        (5_000, 10_000, 1),
    ],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_round_half_up_refuses_negative_input() -> None:
    with pytest.raises(ValueError):
        round_half_up(-1, 2)


@pytest.mark.parametrize(
    ("cents", "bp", "expected"),
    [
        (1234, 250, 31),  # 30.85 -> 31
        (1000, 250, 25),  # exact
        (1, 5000, 1),  # 0.5 -> 1 (half up)
        (1, 4999, 0),  # 0.4999 -> 0
        (14000, 0, 0),
        (14000, 10_000, 14000),
        (9999, 333, 333),  # 332.9667 -> 333
    ],
)
def test_basis_points_round_half_up_to_the_minor_unit(cents: int, bp: int, expected: int) -> None:
    assert basis_points_of(Money(cents, "USD"), bp) == Money(expected, "USD")


@pytest.mark.parametrize("bp", [-1, 10_001, True])
def test_basis_points_are_0_to_100_percent(bp: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        basis_points_of(Money(100, "USD"), bp)
    assert err.value.code == "invalid_percentage"


def test_arithmetic_refuses_mixed_currencies() -> None:
    assert add(Money(100, "USD"), Money(50, "USD")) == Money(150, "USD")
    assert subtract(Money(100, "USD"), Money(150, "USD")) == Money(-50, "USD")
    assert total([Money(1, "EUR"), Money(2, "EUR")], currency="EUR") == Money(3, "EUR")
    with pytest.raises(ValidationFailed) as err:
        add(Money(100, "USD"), Money(50, "EUR"))
    assert err.value.code == "currency_mismatch"


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        (-1, "USD", "invalid_amount"),
        (1.5, "USD", "invalid_amount"),
        (True, "USD", "invalid_amount"),
        (100, "usd", "invalid_currency"),
        (100, "US", "invalid_currency"),
        (100, "QQQ", "invalid_currency"),  # three capital letters, but no ISO 4217 currency
        (100, "XAU", "invalid_currency"),  # gold: an ISO code without a minor unit
        (100, "KWD", "invalid_currency"),  # three decimals: refused rather than mis-shown
    ],
)
def test_money_is_validated(amount: int, currency: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        money(amount, currency)
    assert err.value.code == code
