from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from domain.measures.instruments import GAD7, PHQ9, Severity
from domain.measures.trend import (
    DEFAULT_CUTOFF,
    Comparison,
    ObjectiveResult,
    compare,
    objective_status,
    parse_comparison,
    trend,
    validate_objective_target,
)
from domain.shared.errors import ValidationFailed
from tests.unit.measures.factories import response, uid, utc

# Given out of order on purpose.
SCORES = (
    response(PHQ9, 8, utc(2026, 5, 15, 10), n=3),
    response(PHQ9, 18, utc(2026, 5, 1, 10), n=1),
    response(GAD7, 12, utc(2026, 5, 2, 10), n=4),
    response(PHQ9, 12, utc(2026, 5, 8, 10), n=2),
)


def test_trend_is_one_instrument_sorted_by_time() -> None:
    t = trend(SCORES, instrument_code="phq9")
    assert t.instrument_code == "phq9"
    assert [(p.response_id, p.total, p.band) for p in t.points] == [
        (uid(1), 18, Severity.MODERATELY_SEVERE),
        (uid(2), 12, Severity.MODERATE),
        (uid(3), 8, Severity.MILD),
    ]
    assert [p.date.isoformat() for p in t.points] == ["2026-05-01", "2026-05-08", "2026-05-15"]
    assert t.points[0].completed_at == utc(2026, 5, 1, 10)
    assert t.first is not None and t.first.total == 18
    assert t.latest is not None and t.latest.total == 8


def test_change_from_first_to_latest_and_the_cutoff() -> None:
    t = trend(SCORES, instrument_code="phq9")
    assert t.change == -10
    assert t.cutoff == DEFAULT_CUTOFF == 10
    assert t.latest_below_cutoff is True
    worse = trend((*SCORES, response(PHQ9, 20, utc(2026, 5, 22), n=5)), instrument_code="phq9")
    assert worse.change == 2
    assert worse.latest_below_cutoff is False


def test_the_cutoff_itself_is_not_below() -> None:
    at_ten = trend([response(PHQ9, 10, utc(2026, 5, 1))], instrument_code="phq9")
    assert at_ten.latest_below_cutoff is False
    nine = trend([response(PHQ9, 9, utc(2026, 5, 1))], instrument_code="phq9")
    assert nine.latest_below_cutoff is True
    assert trend([response(PHQ9, 9, utc(2026, 5, 1))], instrument_code="phq9", cutoff=8).latest_below_cutoff is False


def test_other_instrument_and_single_and_empty_trends() -> None:
    gad = trend(SCORES, instrument_code="gad7")
    assert [p.total for p in gad.points] == [12]
    assert gad.change == 0
    empty = trend([], instrument_code="phq9")
    assert empty.points == ()
    assert (empty.first, empty.latest, empty.change, empty.latest_below_cutoff) == (None, None, None, None)


def test_ties_are_ordered_by_response_id() -> None:
    at = utc(2026, 5, 1)
    t = trend([response(PHQ9, 3, at, n=9), response(PHQ9, 7, at, n=2)], instrument_code="phq9")
    assert [p.response_id for p in t.points] == [uid(2), uid(9)]


def test_dates_in_the_viewers_zone() -> None:
    late_evening = [response(PHQ9, 5, utc(2026, 5, 2, 2))]  # 22:00 EDT on May 1st
    assert trend(late_evening, instrument_code="phq9").points[0].date.isoformat() == "2026-05-02"
    ny = trend(late_evening, instrument_code="phq9", tz=ZoneInfo("America/New_York"))
    assert ny.points[0].date.isoformat() == "2026-05-01"


@pytest.mark.parametrize("cutoff", [-1, True, 9.5, "10"], ids=repr)
def test_invalid_cutoff(cutoff: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        trend(SCORES, instrument_code="phq9", cutoff=cutoff)  # type: ignore[arg-type]
    assert (err.value.code, err.value.field) == ("invalid_cutoff", "cutoff")


# ------------------------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("total", "comparison", "target", "expected"),
    [
        (9, "<", 10, True),
        (10, "<", 10, False),
        (10, "<=", 10, True),
        (11, "<=", 10, False),
        (11, ">", 10, True),
        (10, ">", 10, False),
        (10, ">=", 10, True),
        (9, ">=", 10, False),
        (10, "==", 10, True),
        (9, "==", 10, False),
    ],
)
def test_compare(total: int, comparison: str, target: int, expected: bool) -> None:
    assert compare(total, comparison, target) is expected


@pytest.mark.parametrize("text", ["=", "=<", "lt", "", " <", "!="])
def test_unknown_comparison(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_comparison(text)
    assert (err.value.code, err.value.field) == ("invalid_comparison", "comparison")
    assert parse_comparison("<=") is Comparison.LE


# ----------------------------------------------------------------------------------------- objective status


def test_objective_met_by_the_latest_score_only() -> None:
    # Latest PHQ-9 is 8 (earlier 18 and 12): "< 10" is met.
    phq9_only = [s for s in SCORES if s.instrument_code == "phq9"]
    assert objective_status(10, "<", phq9_only) is ObjectiveResult.MET
    assert objective_status(10, Comparison.LT, SCORES, instrument_code="phq9") is ObjectiveResult.MET
    assert objective_status(8, "<", SCORES, instrument_code="phq9") is ObjectiveResult.NOT_MET
    assert objective_status(8, "<=", SCORES, instrument_code="phq9") is ObjectiveResult.MET
    # A relapse after reaching the target: the latest decides.
    relapse = (*SCORES, response(PHQ9, 11, utc(2026, 5, 29), n=6))
    assert objective_status(10, "<", relapse, instrument_code="phq9") is ObjectiveResult.NOT_MET


def test_objective_on_gad7_among_mixed_scores() -> None:
    assert objective_status(10, "<", SCORES, instrument_code="gad7") is ObjectiveResult.NOT_MET
    assert objective_status(12, "<=", SCORES, instrument_code="gad7") is ObjectiveResult.MET


def test_mixed_instruments_need_a_code() -> None:
    mixed = list(SCORES)
    with pytest.raises(ValidationFailed) as err:
        objective_status(10, "<", mixed)
    assert err.value.code == "mixed_instruments"


def test_no_scores() -> None:
    assert objective_status(10, "<", []) is ObjectiveResult.NO_SCORES
    assert objective_status(10, "<", SCORES[:2], instrument_code="gad7") is ObjectiveResult.NO_SCORES


@pytest.mark.parametrize("target", [-1, True, 9.5, "10", None], ids=repr)
def test_objective_status_refuses_a_bad_target(target: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        objective_status(target, "<", SCORES, instrument_code="phq9")  # type: ignore[arg-type]
    assert err.value.code == "invalid_target"
    with pytest.raises(ValidationFailed) as err:
        objective_status(10, "~", SCORES, instrument_code="phq9")
    assert err.value.code == "invalid_comparison"


def test_validate_objective_target() -> None:
    assert validate_objective_target(PHQ9, "<", 10) == (Comparison.LT, 10)
    assert validate_objective_target(GAD7, ">=", 21) == (Comparison.GE, 21)
    assert validate_objective_target(PHQ9, "<=", 0) == (Comparison.LE, 0)


@pytest.mark.parametrize(
    ("instrument", "comparison", "target", "code"),
    [
        (PHQ9, "<", 0, "invalid_target"),  # no total is below 0
        (PHQ9, ">", 27, "invalid_target"),  # nor above the maximum
        (GAD7, "<", 22, "invalid_target"),  # outside 0..21
        (GAD7, ">", 21, "invalid_target"),
        (PHQ9, "<", -3, "invalid_target"),
        (PHQ9, "<", True, "invalid_target"),
        (PHQ9, "<", "10", "invalid_target"),
        (PHQ9, "<>", 10, "invalid_comparison"),
    ],
)
def test_validate_objective_target_refuses(instrument: object, comparison: str, target: object, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_objective_target(instrument, comparison, target)  # type: ignore[arg-type]
    assert err.value.code == code
