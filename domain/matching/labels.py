"""Words for reasons: place and language names, amounts of money, lists ("anxiety, stress and grief")."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from domain.shared.iso import decimal_amount

_US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "the District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam", "VI": "the U.S. Virgin Islands",
}  # fmt: skip
_CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "the Northwest Territories", "NU": "Nunavut",
    "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec", "SK": "Saskatchewan", "YT": "Yukon",
}  # fmt: skip
_COUNTRIES = {
    "US": "the United States", "CA": "Canada", "GB": "the United Kingdom", "IE": "Ireland", "AU": "Australia",
    "NZ": "New Zealand", "DE": "Germany", "FR": "France", "ES": "Spain", "IT": "Italy", "NL": "the Netherlands",
    "MX": "Mexico", "BR": "Brazil", "IN": "India", "ZA": "South Africa",
}  # fmt: skip
_REGIONS = MappingProxyType(
    {
        **_COUNTRIES,
        **{f"US-{code}": name for code, name in _US_STATES.items()},
        **{f"CA-{code}": name for code, name in _CA_PROVINCES.items()},
    }
)
_LANGUAGES = MappingProxyType(
    {
        "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
        "zh": "Chinese", "yue": "Cantonese", "cmn": "Mandarin", "ja": "Japanese", "ko": "Korean",
        "vi": "Vietnamese", "tl": "Tagalog", "ar": "Arabic", "he": "Hebrew", "fa": "Persian", "hi": "Hindi",
        "ur": "Urdu", "bn": "Bengali", "pa": "Punjabi", "ru": "Russian", "uk": "Ukrainian", "pl": "Polish",
        "ht": "Haitian Creole", "el": "Greek", "tr": "Turkish", "nl": "Dutch", "sv": "Swedish", "ase": "ASL",
    }
)  # fmt: skip
_SYMBOLS = MappingProxyType({"USD": "$", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "EUR": "€", "GBP": "£"})


def region_name(code: str) -> str:
    """ "US-OH" -> "Ohio", "GB" -> "the United Kingdom"; an unknown code is shown as it is."""
    return _REGIONS.get(code, code)


def primary_language(tag: str) -> str:
    """The primary subtag of a BCP 47 tag, lower case: "es-MX" -> "es"."""
    return tag.split("-", 1)[0].casefold()


def language_name(tag: str) -> str:
    """ "es" or "es-MX" -> "Spanish"; an unknown tag is shown as it is."""
    return _LANGUAGES.get(primary_language(tag), tag)


def format_money(amount_minor: int, currency: str) -> str:
    """12000 USD -> "$120.00"; 1500 JPY -> "1500 JPY"; 9950 CHF -> "99.50 CHF"."""
    text = decimal_amount(amount_minor, currency)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def join_words(words: Sequence[str], conjunction: str = "and") -> str:
    """["a"] -> "a"; ["a", "b"] -> "a and b"; ["a", "b", "c"] -> "a, b and c"."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
