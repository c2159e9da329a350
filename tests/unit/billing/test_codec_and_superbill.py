"""The sealed forms of a coding and a claim record round-trip; superbill amounts print in major units."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from domain.billing.codec import claim_from_dict, claim_to_dict, coding_from_dict, coding_to_dict
from domain.billing.coding import code_session, code_session_without_diagnoses, override_coding
from domain.billing.money import Money
from domain.billing.superbill import SuperbillLine, SuperbillProvider, diagnosis_pointers, format_money
from domain.scheduling.model import Modality

THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000aa")


def test_a_coding_with_overrides_round_trips():
    coding = code_session({Modality.VIDEO: 40, Modality.PHONE: 5}, at_home=True, diagnoses=["F41.1"])
    coding, _ = override_coding(
        coding,
        reason="longer",
        by=THERAPIST,
        at=datetime(2026, 12, 1, tzinfo=UTC),
        cpt="90837",
        diagnoses=["F41.1", "Z63.0"],
    )
    assert coding_from_dict(coding_to_dict(coding)) == coding


def test_a_coding_without_diagnoses_keeps_every_other_field():
    coding = code_session_without_diagnoses({Modality.AUDIO: 30}, at_home=False)
    assert (coding.procedure, coding.place_of_service, coding.diagnoses) == ("90832-93", "02", ())
    assert coding_from_dict(coding_to_dict(coding)) == coding


@pytest.mark.parametrize("born", [date(1990, 4, 2), None])
def test_a_claim_record_round_trips(born):
    assert claim_from_dict(claim_to_dict(("F41.1", "F32.0"), born)) == (("F41.1", "F32.0"), born)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (15000, "USD", "USD 150.00"),
        (5, "EUR", "EUR 0.05"),
        (-2900, "USD", "USD -29.00"),
        (1200, "JPY", "JPY 1200"),
        # Zero-decimal currencies other than JPY were shown as cents: KRW 15000 came out as "KRW 150.00".
        (15000, "KRW", "KRW 15000"),
        (9000, "CLP", "CLP 9000"),
        (-500, "ISK", "ISK -500"),
    ],
)
def test_money_on_a_superbill(minor, currency, text):
    assert format_money(Money(minor, currency)) == text


def test_totals_and_diagnosis_pointers():
    lines = tuple(
        SuperbillLine(date(2026, 12, d), "90834", "95", "10", dx, Money(15000, "USD"), Money(paid, "USD"))
        for d, dx, paid in ((1, ("F41.1",), 15000), (8, ("F41.1", "F32.0"), 0))
    )
    provider = SuperbillProvider(THERAPIST, "Practice", "Dr. X", None, (), None, lines, "USD")
    assert provider.total_fee == Money(30000, "USD") and provider.total_paid == Money(15000, "USD")
    assert diagnosis_pointers(lines) == ("F41.1", "F32.0")
