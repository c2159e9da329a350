"""ISO 4217 look-ups and amounts in a currency's own minor unit."""

from __future__ import annotations

import pytest

from domain.matching.labels import format_money
from domain.shared.iso import (
    billable_currencies,
    currency_exponent,
    decimal_amount,
    is_country,
    is_currency,
    is_location,
    is_subdivision,
)


def test_currencies_and_their_exponents() -> None:
    assert is_currency("USD") and is_currency("JPY") and not is_currency("QQQ") and not is_currency("usd")
    assert (currency_exponent("USD"), currency_exponent("JPY"), currency_exponent("KWD")) == (2, 0, 3)
    assert currency_exponent("XAU") is None and currency_exponent("QQQ") is None


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(12000, "USD", "120.00"), (5, "EUR", "0.05"), (-5, "EUR", "-0.05"), (1500, "JPY", "1500"), (1234, "KWD", "1.234")],
)
def test_decimal_amount(minor: int, currency: str, text: str) -> None:
    assert decimal_amount(minor, currency) == text


def test_matching_explanations_show_zero_decimal_currencies_whole() -> None:
    # XAF (Central African franc) has no minor unit but was missing from the hand-written list: "150.00 XAF".
    assert format_money(15000, "XAF") == "15000 XAF"
    assert format_money(12000, "USD") == "$120.00"


def test_countries_and_their_subdivisions() -> None:
    assert is_country("GB") and is_country("US") and not is_country("ZZ") and not is_country("gb")
    assert is_subdivision("US", "NY") and is_subdivision("GB", "ENG") and is_subdivision("US", "DC")
    assert not is_subdivision("GB", "NY") and not is_subdivision("US", "ZZZ") and not is_subdivision("ZZ", "99")


@pytest.mark.parametrize(("code", "known"), [("GB", True), ("US-NY", True), ("CA-ON", True), ("US-ZZ", False)])
def test_locations_as_licences_and_residences_write_them(code: str, known: bool) -> None:
    assert is_location(code) is known


def test_the_billable_table_published_to_the_spa() -> None:
    table = billable_currencies()
    assert (table["USD"], table["JPY"], table["HUF"]) == (2, 0, 2)
    assert "KWD" not in table and "XAU" not in table and list(table) == sorted(table)
