from __future__ import annotations

import copy
import json
from datetime import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.matching.intake import (
    INTAKE_VERSION,
    Budget,
    Concern,
    GenderPreference,
    Insurance,
    Intake,
    PriorTherapy,
    validate_intake,
)
from domain.plans.jsondoc import DocumentError
from domain.scheduling.model import Modality, TimeRange
from domain.shared.errors import ValidationFailed
from tests.unit.matching.factories import EVENINGS, intake
from tests.unit.scheduling.factories import hm

FULL = intake(
    concerns=(Concern.GRIEF, Concern.ANXIETY),
    prior_therapy=PriorTherapy.PAST,
    modalities=(Modality.VIDEO, Modality.PHONE),
    session_minutes=45,
    language="es-MX",
    residence="US-NY",
    timezone="America/Chicago",
    therapist_gender=GenderPreference.WOMAN,
    faith_based=True,
    lgbtq_affirming=True,
    days=(1, 3, 6),
    times=(TimeRange(hm("07:00"), hm("09:00")), TimeRange(hm("22:00"), time(0))),
    payment=Budget(12500, "USD"),
)


# ---------------------------------------------------------------------------------------------- round trips


def test_to_dict_is_the_documented_json() -> None:
    assert FULL.to_dict() == {
        "v": 1,
        "concerns": ["grief", "anxiety"],
        "prior_therapy": "past",
        "modalities": ["video", "phone"],
        "session_minutes": 45,
        "language": "es-MX",
        "residence": "US-NY",
        "timezone": "America/Chicago",
        "consent_to_match": True,
        "therapist_gender": "woman",
        "faith_based": True,
        "lgbtq_affirming": True,
        "days": [1, 3, 6],
        "times": [{"start": "07:00", "end": "09:00"}, {"start": "22:00", "end": "00:00"}],
        "payment": {"kind": "budget", "max_amount_minor": 12500, "currency": "USD"},
    }


@pytest.mark.parametrize("payment", [None, Budget(0, "EUR"), Budget(9000, "USD"), Insurance("Blue Cross")])
def test_round_trip_through_json_text(payment: Budget | Insurance | None) -> None:
    original = intake(payment=payment, times=EVENINGS, days=(1, 2))
    text = json.dumps(original.to_dict())
    back = Intake.from_dict(json.loads(text))
    assert back == original
    assert back.to_dict() == original.to_dict()


concerns = st.lists(st.sampled_from(Concern), min_size=1, max_size=5, unique=True).map(tuple)
walls = st.builds(time, st.integers(0, 23), st.integers(0, 59))
ranges = st.builds(TimeRange, walls, walls)
payments = (
    st.none()
    | st.builds(Budget, st.integers(0, 10**7), st.sampled_from(["USD", "EUR"]))
    | st.builds(Insurance, st.text(min_size=1, max_size=20))
)
intakes = st.builds(
    Intake,
    concerns=concerns,
    prior_therapy=st.sampled_from(PriorTherapy),
    modalities=st.lists(st.sampled_from(Modality), min_size=1, unique=True).map(tuple),
    session_minutes=st.integers(0, 120),
    language=st.sampled_from(["en", "es", "zh-Hant"]),
    residence=st.sampled_from(["US-OH", "GB", "CA-ON"]),
    timezone=st.sampled_from(["America/New_York", "Europe/London"]),
    consent_to_match=st.booleans(),
    therapist_gender=st.sampled_from(GenderPreference),
    faith_based=st.booleans(),
    lgbtq_affirming=st.booleans(),
    days=st.lists(st.integers(1, 7), unique=True).map(lambda d: tuple(sorted(d))),
    times=st.lists(ranges, max_size=3).map(tuple),
    payment=payments,
)


@settings(max_examples=200, deadline=None)
@given(intakes)
def test_any_intake_round_trips_exactly(value: Intake) -> None:
    data = value.to_dict()
    assert Intake.from_dict(copy.deepcopy(data)) == value
    assert Intake.from_dict(data).to_dict() == data
    assert json.loads(json.dumps(data)) == data  # JSON types only


# ---------------------------------------------------------------------------------------------- strict reading


def _doc(**changes: Any) -> dict[str, Any]:
    data = FULL.to_dict()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (_doc(v=2), "v"),
        (_doc(concerns=["anxiety", "boredom"]), "concerns[1]"),
        (_doc(concerns="anxiety"), "concerns"),
        (_doc(session_minutes="50"), "session_minutes"),
        (_doc(session_minutes=True), "session_minutes"),
        (_doc(consent_to_match=1), "consent_to_match"),
        (_doc(days=[1, "2"]), "days[1]"),
        (_doc(times=[{"start": "7:00", "end": "09:00"}]), "times[0].start"),
        (_doc(times=[{"start": "07:00:30", "end": "09:00"}]), "times[0].start"),
        (_doc(times=[{"start": "07:00"}]), "times[0]"),
        (_doc(payment={"kind": "cash"}), "payment.kind"),
        (_doc(payment={"kind": "insurance", "payer": "A", "member_id": "1"}), "payment"),
        (_doc(payment={"max_amount_minor": 1, "currency": "USD"}), "payment"),
        (_doc(payment=[]), "payment"),
        (_doc(therapist_gender="any"), "therapist_gender"),
        ({**_doc(), "notes": "hello"}, ""),
        ({k: v for k, v in _doc().items() if k != "language"}, ""),
        ("not an object", ""),
    ],
)
def test_from_dict_refuses_anything_but_the_written_shape(data: object, path: str) -> None:
    with pytest.raises(DocumentError) as err:
        Intake.from_dict(data)
    assert err.value.code == "invalid_document"
    assert err.value.path == path


def test_version_constant_is_what_is_written() -> None:
    assert FULL.to_dict()["v"] == INTAKE_VERSION == 1


# ---------------------------------------------------------------------------------------------- validation


def test_a_complete_intake_is_valid() -> None:
    validate_intake(FULL)
    validate_intake(intake())


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"concerns": ()}, "invalid_concerns", "concerns"),
        ({"concerns": (Concern.GRIEF, Concern.GRIEF)}, "invalid_concerns", "concerns"),
        ({"concerns": ("grief",)}, "invalid_concerns", "concerns"),
        ({"prior_therapy": "sometimes"}, "invalid_prior_therapy", "prior_therapy"),
        ({"modalities": ()}, "invalid_modalities", "modalities"),
        ({"modalities": (Modality.CHAT, Modality.CHAT)}, "invalid_modalities", "modalities"),
        ({"session_minutes": 90}, "invalid_duration", "session_minutes"),
        ({"session_minutes": 47}, "invalid_duration", "session_minutes"),
        ({"language": "English"}, "invalid_language", "language"),
        ({"residence": "Ohio"}, "invalid_residence", "residence"),
        ({"residence": "us-oh"}, "invalid_residence", "residence"),
        ({"residence": "ZZ-99"}, "invalid_residence", "residence"),
        ({"residence": "ZZ"}, "invalid_residence", "residence"),
        ({"residence": "GB-OH"}, "invalid_residence", "residence"),  # Ohio is a US state
        ({"timezone": "Mars/Olympus"}, "invalid_timezone", "timezone"),
        ({"therapist_gender": "woman"}, "invalid_gender_preference", "therapist_gender"),
        ({"faith_based": "yes"}, "invalid_preference", "faith_based"),
        ({"days": (0,)}, "invalid_days", "days"),
        ({"days": (8,)}, "invalid_days", "days"),
        ({"days": (3, 1)}, "invalid_days", "days"),
        ({"days": (2, 2)}, "invalid_days", "days"),
        ({"times": (TimeRange(hm("21:00"), hm("17:00")),)}, "invalid_times", "times"),
        (
            {"times": (TimeRange(hm("17:00"), hm("21:00")), TimeRange(hm("20:00"), hm("22:00")))},
            "invalid_times",
            "times",
        ),
        (
            {"times": (TimeRange(hm("17:00"), hm("21:00")), TimeRange(hm("08:00"), hm("10:00")))},
            "invalid_times",
            "times",
        ),
        ({"times": (TimeRange(time(17, 0, 30), hm("21:00")),)}, "invalid_times", "times"),
        ({"payment": Budget(-1, "USD")}, "invalid_budget", "payment.max_amount_minor"),
        ({"payment": Budget(True, "USD")}, "invalid_budget", "payment.max_amount_minor"),
        ({"payment": Budget(100, "usd")}, "invalid_currency", "payment.currency"),
        ({"payment": Budget(100, "QQQ")}, "invalid_currency", "payment.currency"),
        ({"payment": Insurance("")}, "invalid_insurance", "payment.payer"),
        ({"payment": Insurance(" Aetna")}, "invalid_insurance", "payment.payer"),
        ({"payment": Insurance("x" * 101)}, "invalid_insurance", "payment.payer"),
        ({"payment": "cash"}, "invalid_budget", "payment"),
        ({"consent_to_match": False}, "consent_required", "consent_to_match"),
    ],
)
def test_validation_codes(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_intake(intake(**changes))
    assert (err.value.code, err.value.field) == (code, field)


def test_touching_ranges_and_a_range_to_midnight_are_valid() -> None:
    validate_intake(intake(times=(TimeRange(hm("17:00"), hm("19:00")), TimeRange(hm("19:00"), time(0)))))


def test_concern_labels_read_as_words() -> None:
    assert Concern.SUBSTANCE_USE.label == "substance use"
    assert Concern.OCD.label == "OCD"
    assert Concern.ANXIETY.label == "anxiety"
