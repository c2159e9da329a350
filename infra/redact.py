"""Masking for free text that leaves the process (job logs, log lines): third-party messages may quote an email
address or a phone number, and those are personal data."""

from __future__ import annotations

import re

__all__ = ["mask_addresses", "mask_contacts"]

_EMAIL_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>@]+>?")  # with its angle brackets: "<a@b>" is one "<address>"
# Only numbers written with a leading "+": a bare run of digits is as likely an id, a port or a time.
_PHONE_NUMBER = re.compile(r"\+[0-9][0-9 ()-]{5,}[0-9]")


def mask_addresses(text: str) -> str:
    return _EMAIL_ADDRESS.sub("<address>", text)


def mask_contacts(text: str) -> str:
    """`text` with email addresses and international phone numbers masked."""
    return _PHONE_NUMBER.sub("<number>", mask_addresses(text))
