from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from domain.measures.alerts import (
    DEFAULT_CRISIS_RESOURCES,
    LIFELINE_988,
    CrisisResource,
    SafetyAlert,
    crisis_resources,
    needs_safety_alert,
    safety_alert_for,
    shows_crisis_resources,
)
from domain.measures.instruments import GAD7, PHQ9, RiskFlag
from domain.shared.errors import ValidationFailed
from tests.unit.measures.factories import CLIENT, PRACTICE, THERAPIST, response, uid, utc

NOW = utc(2026, 5, 4, 13)


def alert_for(q9: int, total: int | None = None) -> SafetyAlert | None:
    r = response(PHQ9, total if total is not None else q9, NOW - timedelta(seconds=2), n=5, q9=q9)
    return safety_alert_for(r, alert_id=uid(50), practice_id=PRACTICE, therapist_id=THERAPIST, now=NOW)


@pytest.mark.parametrize("q9", [1, 2, 3])
def test_item_9_above_zero_creates_an_alert(q9: int) -> None:
    alert = alert_for(q9)
    assert alert is not None
    assert (alert.id, alert.practice_id, alert.client_id, alert.therapist_id) == (uid(50), PRACTICE, CLIENT, THERAPIST)
    assert (alert.instrument_code, alert.instrument_version, alert.response_id) == ("phq9", 1, uid(5))
    assert alert.flags == frozenset({RiskFlag.SUICIDAL_IDEATION})
    assert alert.created_at == NOW
    assert (alert.acknowledged_at, alert.acknowledged_by) == (None, None)
    assert alert.open


@pytest.mark.parametrize("total", [0, 9, 24])
def test_item_9_at_zero_creates_none_whatever_the_total(total: int) -> None:
    assert alert_for(0, total) is None


def test_gad7_never_creates_an_alert() -> None:
    r = response(GAD7, 21, NOW)
    assert not needs_safety_alert(r.score)
    assert safety_alert_for(r, alert_id=uid(1), practice_id=PRACTICE, therapist_id=THERAPIST, now=NOW) is None


def test_needs_alert_and_crisis_resources_go_together() -> None:
    flagged = response(PHQ9, 1, NOW, q9=1).score
    calm = response(PHQ9, 20, NOW).score
    assert needs_safety_alert(flagged) and shows_crisis_resources(flagged)
    assert not needs_safety_alert(calm) and not shows_crisis_resources(calm)


def test_alert_time_is_utc_and_must_be_aware() -> None:
    r = response(PHQ9, 2, NOW, q9=2)
    local = NOW.astimezone(timezone(timedelta(hours=-4)))
    alert = safety_alert_for(r, alert_id=uid(1), practice_id=PRACTICE, therapist_id=THERAPIST, now=local)
    assert alert is not None and alert.created_at == NOW and alert.created_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationFailed):
        safety_alert_for(r, alert_id=uid(1), practice_id=PRACTICE, therapist_id=THERAPIST, now=datetime(2026, 5, 4))


def test_acknowledge_once() -> None:
    alert = alert_for(1)
    assert alert is not None
    acked = alert.acknowledge(by=THERAPIST, at=NOW + timedelta(minutes=3))
    assert (acked.acknowledged_at, acked.acknowledged_by) == (NOW + timedelta(minutes=3), THERAPIST)
    assert not acked.open
    assert alert.open  # the original value is unchanged
    again = acked.acknowledge(by=uid(99), at=NOW + timedelta(hours=1))
    assert again is acked


def test_acknowledgement_never_dates_before_the_alert() -> None:
    alert = alert_for(1)
    assert alert is not None
    assert alert.acknowledge(by=THERAPIST, at=NOW - timedelta(seconds=5)).acknowledged_at == NOW


# -------------------------------------------------------------------------------------------------- resources


def test_default_us_resource_is_988() -> None:
    assert DEFAULT_CRISIS_RESOURCES == (LIFELINE_988,)
    assert LIFELINE_988.name == "988 Suicide & Crisis Lifeline"
    assert (LIFELINE_988.phone, LIFELINE_988.text, LIFELINE_988.url) == ("988", "988", "https://988lifeline.org")


def test_a_practice_list_replaces_the_default() -> None:
    own = CrisisResource(name="Samaritans", phone="116 123", url="https://www.samaritans.org")
    assert crisis_resources([own]) == (own,)
    assert crisis_resources([]) == DEFAULT_CRISIS_RESOURCES
    assert crisis_resources(None) == DEFAULT_CRISIS_RESOURCES


@pytest.mark.parametrize(
    "kw",
    [
        {"phone": "+1 (800) 273-8255"},
        {"text": "741741"},
        {"url": "https://example.org/help?x=1"},
        {"phone": "112", "description": "Emergency"},
    ],
)
def test_valid_resources(kw: dict[str, str]) -> None:
    assert CrisisResource(name="Line", **kw).name == "Line"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "", "phone": "988"}, "name"),
        ({"name": "   ", "phone": "988"}, "name"),
        ({"name": " Line", "phone": "988"}, "name"),
        ({"name": "x" * 121, "phone": "988"}, "name"),
        ({"name": "Line"}, "phone"),  # no way to reach it
        ({"name": "Line", "phone": "call me"}, "phone"),
        ({"name": "Line", "phone": ""}, "phone"),
        ({"name": "Line", "text": "98-"}, "text"),
        ({"name": "Line", "url": "http://988lifeline.org"}, "url"),
        ({"name": "Line", "url": "javascript:alert(1)"}, "url"),
        ({"name": "Line", "url": "https://"}, "url"),
        ({"name": "Line", "url": "https://a b.org"}, "url"),
        ({"name": "Line", "phone": "988", "description": "x" * 301}, "description"),
    ],
)
def test_invalid_resources(kw: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        CrisisResource(**kw)
    assert (err.value.code, err.value.field) == ("invalid_crisis_resource", field)


def test_resources_are_validated_on_replace_too() -> None:
    with pytest.raises(ValidationFailed):
        replace(LIFELINE_988, url="http://988lifeline.org")
