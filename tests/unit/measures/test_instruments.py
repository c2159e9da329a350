from __future__ import annotations

from dataclasses import replace

import pytest

from domain.measures.instruments import (
    DEFAULT_REGISTRY,
    FREQUENCY_OPTIONS,
    GAD7,
    PHQ9,
    InstrumentRegistry,
    RiskFlag,
    RiskRule,
    Severity,
    SeverityBand,
    get_instrument,
)
from domain.shared.errors import NotFound


def test_phq9_has_nine_items_in_order_with_the_standard_wording() -> None:
    assert PHQ9.code == "phq9"
    assert PHQ9.version == 1
    assert PHQ9.name == "PHQ-9"
    assert PHQ9.stem == "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    assert PHQ9.item_keys == ("q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9")
    assert [item.number for item in PHQ9.items] == list(range(1, 10))
    assert PHQ9.items[0].text == "Little interest or pleasure in doing things"
    assert PHQ9.items[1].text == "Feeling down, depressed, or hopeless"
    assert PHQ9.items[8].text == "Thoughts that you would be better off dead or of hurting yourself in some way"
    assert PHQ9.max_total == 27


def test_gad7_has_seven_items_in_order_with_the_standard_wording() -> None:
    assert GAD7.code == "gad7"
    assert GAD7.version == 1
    assert GAD7.name == "GAD-7"
    assert GAD7.stem.startswith("Over the last 2 weeks, how often have you been bothered")
    assert GAD7.item_keys == ("q1", "q2", "q3", "q4", "q5", "q6", "q7")
    assert GAD7.items[0].text == "Feeling nervous, anxious, or on edge"
    assert GAD7.items[6].text == "Feeling afraid, as if something awful might happen"
    assert GAD7.max_total == 21


def test_both_use_the_four_frequency_options() -> None:
    expected = [(0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day")]
    for instrument in (PHQ9, GAD7):
        assert [(o.value, o.label) for o in instrument.options] == expected
    assert PHQ9.options is FREQUENCY_OPTIONS


def test_phq9_has_an_unscored_difficulty_question_and_gad7_none() -> None:
    question = PHQ9.difficulty
    assert question is not None
    assert question.key == "difficulty"
    assert question.key not in PHQ9.item_keys
    assert "how difficult have these problems made it" in question.text
    assert [o.label for o in question.options] == [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    assert GAD7.difficulty is None


def test_only_phq9_item_9_carries_a_risk_rule() -> None:
    assert PHQ9.risk_rules == (RiskRule(item_key="q9", minimum_answer=1, flag=RiskFlag.SUICIDAL_IDEATION),)
    assert GAD7.risk_rules == ()


def test_severity_labels() -> None:
    assert Severity.MODERATELY_SEVERE.label == "Moderately severe"
    assert Severity.MINIMAL.label == "Minimal"


def test_registry_finds_instruments_by_code_and_version() -> None:
    assert get_instrument("phq9") is PHQ9
    assert get_instrument("gad7", 1) is GAD7
    assert set(DEFAULT_REGISTRY.codes()) == {"phq9", "gad7"}
    assert set(DEFAULT_REGISTRY.latest()) == {PHQ9, GAD7}


@pytest.mark.parametrize(("code", "version"), [("phq10", None), ("PHQ9", None), ("", None), ("phq9", 2)])
def test_unknown_instrument_or_version_is_not_found(code: str, version: int | None) -> None:
    with pytest.raises(NotFound) as err:
        get_instrument(code, version)
    assert err.value.code == "unknown_instrument"


def test_registry_returns_the_newest_version_unless_asked() -> None:
    phq9_v2 = replace(PHQ9, version=2, stem="A reworded stem?")
    registry = InstrumentRegistry((phq9_v2, PHQ9, GAD7))
    assert registry.get("phq9") is phq9_v2
    assert registry.get("phq9", 1) is PHQ9
    with pytest.raises(ValueError, match="twice"):
        InstrumentRegistry((PHQ9, PHQ9))


@pytest.mark.parametrize(
    "change",
    [
        {"bands": (SeverityBand(0, 4, Severity.MINIMAL), SeverityBand(6, 27, Severity.SEVERE))},  # gap at 5
        {"bands": (SeverityBand(0, 4, Severity.MINIMAL), SeverityBand(5, 26, Severity.SEVERE))},  # stops short
        {"bands": (SeverityBand(1, 27, Severity.SEVERE),)},  # does not start at 0
        {"risk_rules": (RiskRule("q10", 1, RiskFlag.SUICIDAL_IDEATION),)},
        {"risk_rules": (RiskRule("q9", 0, RiskFlag.SUICIDAL_IDEATION),)},  # would flag every response
        {"items": (*PHQ9.items[:8], replace(PHQ9.items[8], key="q1"))},  # duplicate key
        {"items": (replace(PHQ9.items[0], number=2), *PHQ9.items[1:])},  # misnumbered
        {"options": FREQUENCY_OPTIONS[1:]},
        {"version": 0},
    ],
)
def test_a_broken_definition_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="phq9"):
        replace(PHQ9, **change)  # type: ignore[arg-type]


def test_band_for_refuses_totals_outside_the_scale() -> None:
    assert PHQ9.band_for(27).severity is Severity.SEVERE
    with pytest.raises(ValueError):
        PHQ9.band_for(28)
    with pytest.raises(ValueError):
        GAD7.band_for(-1)
