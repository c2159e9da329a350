"""ISO 4217 currencies with their minor units, and ISO 3166-1 countries with their ISO 3166-2 subdivisions.

The tables come from two maintained plain-data packages (no framework, no I/O beyond reading their bundled
files): `iso4217` (the ISO 4217 list with each code's minor-unit exponent) and `pycountry` (ISO 3166-1 and
3166-2 from Debian's iso-codes). Each is read once, on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

import iso4217
import pycountry

from domain.shared.errors import ValidationFailed, quoted

__all__ = [
    "BILLABLE_EXPONENTS",
    "billable_currencies",
    "check_currency",
    "currency_exponent",
    "decimal_amount",
    "is_country",
    "is_currency",
    "is_location",
    "is_subdivision",
]


@functools.cache
def _exponents() -> Mapping[str, int | None]:
    return MappingProxyType({currency.code: currency.exponent for currency in iso4217.Currency})


@functools.cache
def _countries() -> frozenset[str]:
    return frozenset(str(country.alpha_2) for country in pycountry.countries)


@functools.cache
def _subdivisions() -> frozenset[str]:
    return frozenset(str(subdivision.code) for subdivision in pycountry.subdivisions)


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code ("GB", "US"), false for "ZZ" or "gb"."""
    return code in _countries()


def is_subdivision(country: str, region: str) -> bool:
    """True when `region` is an ISO 3166-2 subdivision of `country`: ("US", "NY"), ("GB", "ENG"); not ("GB", "NY")."""
    return is_country(country) and f"{country}-{region}" in _subdivisions()


def is_location(code: str) -> bool:
    """True for a country ("GB") or one of its subdivisions ("US-NY"), as licences and residences are written."""
    country, _, region = code.partition("-")
    return is_subdivision(country, region) if region else is_country(country)


def is_currency(code: str) -> bool:
    """True for a current ISO 4217 alphabetic code ("USD", "JPY"), false for "QQQ" or "usd"."""
    return code in _exponents()


def currency_exponent(code: str) -> int | None:
    """The ISO 4217 minor-unit exponent of a current currency: USD 2, JPY 0, KWD 3; None for a code without
    minor units (gold XAU, special drawing rights XDR, the test code XTS) or one that is not a currency."""
    return _exponents().get(code)


def decimal_amount(amount_minor: int, currency: str) -> str:
    """Minor units as a decimal in the currency's own exponent: 12000 USD -> "120.00", 1500 JPY -> "1500",
    -5 EUR -> "-0.05". A code without an exponent is shown as its minor units."""
    digits = currency_exponent(currency) or 0
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


# Hearth bills in whole units or cents: every amount is integer minor units, entered and shown with the
# currency's ISO exponent. Three-decimal dinars (BHD, KWD, ...) and four-decimal units of account (CLF) are not
# supported yet: the payment provider wants their last digit zero and the SPA's number formats disagree for some.
BILLABLE_EXPONENTS = frozenset({0, 2})


def billable_currencies() -> dict[str, int]:
    """Every currency `check_currency` accepts, with its exponent, by code: {"AED": 2, ..., "JPY": 0, ...}."""
    return {code: digits for code, digits in sorted(_exponents().items()) if digits in BILLABLE_EXPONENTS}


def check_currency(currency: object, *, field: str = "currency") -> str:
    """`currency` if it is a current ISO 4217 code whose minor unit Hearth bills in (0 or 2 decimals), else
    `ValidationFailed(code="invalid_currency")` saying which."""
    if not isinstance(currency, str) or not is_currency(currency):
        raise ValidationFailed(
            f"Currency {quoted(currency)} is not an ISO 4217 code such as 'USD'.", code="invalid_currency", field=field
        )
    exponent = currency_exponent(currency)
    if exponent not in BILLABLE_EXPONENTS:
        places = "no minor unit" if exponent is None else f"{exponent} decimal places"
        raise ValidationFailed(
            f"Currency {currency} has {places}; Hearth bills only in currencies with 0 or 2 (such as JPY or USD).",
            code="invalid_currency",
            field=field,
        )
    return currency
