"""Phone numbers as people type them, stored as E.164 (the form SMS and voice providers take)."""

from __future__ import annotations

import re

from domain.shared.errors import ValidationFailed

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SEPARATORS = re.compile(r"[\s().\-/]")


def normalise_phone(text: str) -> str:
    """People type "+1 (415) 555-0123" or "0044 20 7946 0000": keep digits, accept 00 for +, require E.164."""
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _E164.fullmatch(compact):
        raise ValidationFailed(
            "Give the phone number in international form with its country code, e.g. +14155550123.",
            code="invalid_phone",
            field="phone",
        )
    return compact
