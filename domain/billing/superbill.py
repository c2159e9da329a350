"""The superbill: what a client sends their insurer to be reimbursed for sessions they paid themselves.

Per therapist: the practice and the provider (name, NPI, licences, tax id); the client (name, date of birth);
one line per date of service with CPT, modifier, place of service, diagnoses, fee and amount paid, and totals.
Only session charges appear (a late-cancellation or no-show fee is not a covered service), only from issued
invoices (a draft is not billed yet, a void one is cancelled). The PDF itself is an adapter's job
(`SuperbillRenderer`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from domain.billing.money import Money, total
from domain.shared.iso import decimal_amount


@dataclass(frozen=True, slots=True)
class SuperbillLine:
    service_date: date
    cpt: str | None
    modifier: str | None
    place_of_service: str
    diagnoses: tuple[str, ...]
    fee: Money
    paid: Money


@dataclass(frozen=True, slots=True)
class SuperbillProvider:
    therapist_id: uuid.UUID
    practice_name: str
    therapist_name: str
    npi: str | None
    licenses: tuple[str, ...]
    tax_id: str | None
    lines: tuple[SuperbillLine, ...]
    currency: str

    @property
    def total_fee(self) -> Money:
        return total((line.fee for line in self.lines), currency=self.currency)

    @property
    def total_paid(self) -> Money:
        return total((line.paid for line in self.lines), currency=self.currency)


@dataclass(frozen=True, slots=True)
class Superbill:
    client_id: uuid.UUID
    client_name: str
    date_of_birth: date | None
    period_from: date
    period_to: date
    providers: tuple[SuperbillProvider, ...]


def format_money(value: Money) -> str:
    """ "USD 150.00", "JPY 15000": minor units shown in the currency's ISO 4217 exponent."""
    return f"{value.currency} {decimal_amount(value.amount_minor, value.currency)}"


def diagnosis_pointers(lines: Sequence[SuperbillLine]) -> tuple[str, ...]:
    """Every diagnosis on the superbill once, in first-seen order."""
    seen: dict[str, None] = {}
    for line in lines:
        for code in line.diagnoses:
            seen.setdefault(code, None)
    return tuple(seen)


class SuperbillRenderer(Protocol):
    def render(self, superbill: Superbill) -> bytes:
        """The superbill as a PDF document."""
        ...
