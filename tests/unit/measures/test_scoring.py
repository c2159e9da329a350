from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.measures.instruments import GAD7, PHQ9, Instrument, RiskFlag, Severity
from domain.measures.scoring import Score, complete_response, score_response
from domain.shared.errors import ValidationFailed
from tests.unit.measures.factories import CLIENT, answers_for_total, uid, utc, zeros


def _param_id(value: object) -> str | None:
    return str(value.code) if isinstance(value, Instrument) else None


INSTRUMENTS = pytest.mark.parametrize("instrument", [PHQ9, GAD7], ids=["phq9", "gad7"])

# ------------------------------------------------------------------------------------------ item by item


@pytest.mark.parametrize(
    ("instrument", "key", "value"),
    [(i, item.key, v) for i in (PHQ9, GAD7) for item in i.items for v in (0, 1, 2, 3)],
    ids=_param_id,
)
def test_each_item_contributes_exactly_its_answer(instrument: Instrument, key: str, value: int) -> None:
    answers = zeros(instrument)
    answers[key] = value
    score = score_response(instrument, answers)
    assert score.total == value
    assert score.answer(key) == value
    assert all(score.answer(k) == 0 for k in instrument.item_keys if k != key)


@pytest.mark.parametrize(
    ("instrument", "key"),
    [(i, item.key) for i in (PHQ9, GAD7) for item in i.items],
    ids=_param_id,
)
def test_each_item_adds_to_the_others(instrument: Instrument, key: str) -> None:
    """Every item counts in the sum: all at 2 with this one at 3 is one more than all at 2."""
    base = {k: 2 for k in instrument.item_keys}
    raised = {**base, key: 3}
    assert score_response(instrument, raised).total == score_response(instrument, base).total + 1


@INSTRUMENTS
@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_all_items_at_one_value(instrument: Instrument, value: int) -> None:
    score = score_response(instrument, {k: value for k in instrument.item_keys})
    assert score.total == len(instrument.items) * value


def test_maximum_totals() -> None:
    phq = score_response(PHQ9, {k: 3 for k in PHQ9.item_keys})
    gad = score_response(GAD7, {k: 3 for k in GAD7.item_keys})
    assert (phq.total, phq.max_total, phq.band) == (27, 27, Severity.SEVERE)
    assert (gad.total, gad.max_total, gad.band) == (21, 21, Severity.SEVERE)


def test_mixed_answers_sum() -> None:
    answers = {"q1": 3, "q2": 0, "q3": 2, "q4": 1, "q5": 3, "q6": 0, "q7": 1, "q8": 2, "q9": 0}
    assert score_response(PHQ9, answers).total == 12
    assert score_response(GAD7, {"q1": 1, "q2": 2, "q3": 3, "q4": 0, "q5": 1, "q6": 2, "q7": 3}).total == 12


# --------------------------------------------------------------------------------------------------- bands

PHQ9_BOUNDARIES = [
    (0, Severity.MINIMAL),
    (4, Severity.MINIMAL),
    (5, Severity.MILD),
    (9, Severity.MILD),
    (10, Severity.MODERATE),
    (14, Severity.MODERATE),
    (15, Severity.MODERATELY_SEVERE),
    (19, Severity.MODERATELY_SEVERE),
    (20, Severity.SEVERE),
    (27, Severity.SEVERE),
]
GAD7_BOUNDARIES = [
    (0, Severity.MINIMAL),
    (4, Severity.MINIMAL),
    (5, Severity.MILD),
    (9, Severity.MILD),
    (10, Severity.MODERATE),
    (14, Severity.MODERATE),
    (15, Severity.SEVERE),
    (21, Severity.SEVERE),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BOUNDARIES)
def test_phq9_band_boundaries(total: int, band: Severity) -> None:
    score = score_response(PHQ9, answers_for_total(PHQ9, total, risk_item="q9"))
    assert score.total == total
    assert score.band is band


@pytest.mark.parametrize(("total", "band"), GAD7_BOUNDARIES)
def test_gad7_band_boundaries(total: int, band: Severity) -> None:
    score = score_response(GAD7, answers_for_total(GAD7, total))
    assert score.total == total
    assert score.band is band


def _expected_phq9(total: int) -> Severity:
    if total <= 4:
        return Severity.MINIMAL
    if total <= 9:
        return Severity.MILD
    if total <= 14:
        return Severity.MODERATE
    if total <= 19:
        return Severity.MODERATELY_SEVERE
    return Severity.SEVERE


def _expected_gad7(total: int) -> Severity:
    if total <= 4:
        return Severity.MINIMAL
    if total <= 9:
        return Severity.MILD
    if total <= 14:
        return Severity.MODERATE
    return Severity.SEVERE


def test_every_total_of_both_scales_has_the_published_band() -> None:
    for total in range(28):
        assert score_response(PHQ9, answers_for_total(PHQ9, total, risk_item="q9")).band is _expected_phq9(total)
    for total in range(22):
        assert score_response(GAD7, answers_for_total(GAD7, total)).band is _expected_gad7(total)


def test_gad7_has_no_moderately_severe_band() -> None:
    assert Severity.MODERATELY_SEVERE not in {b.severity for b in GAD7.bands}
    assert score_response(GAD7, answers_for_total(GAD7, 17)).band is Severity.SEVERE
    assert score_response(PHQ9, answers_for_total(PHQ9, 17, risk_item="q9")).band is Severity.MODERATELY_SEVERE


def test_band_label() -> None:
    score = score_response(PHQ9, answers_for_total(PHQ9, 16, risk_item="q9"))
    assert score.band_label == "Moderately severe"


# ------------------------------------------------------------------------------------------------ item 9


def test_phq9_item_9_at_zero_raises_no_flag_even_with_a_severe_total() -> None:
    answers = {k: 3 for k in PHQ9.item_keys} | {"q9": 0}
    score = score_response(PHQ9, answers)
    assert score.total == 24
    assert score.band is Severity.SEVERE
    assert score.flags == frozenset()


@pytest.mark.parametrize("value", [1, 2, 3])
def test_phq9_item_9_above_zero_flags_suicidal_ideation_even_with_a_minimal_total(value: int) -> None:
    answers = zeros(PHQ9) | {"q9": value}
    score = score_response(PHQ9, answers)
    assert score.total == value
    assert score.band is Severity.MINIMAL
    assert score.flags == frozenset({RiskFlag.SUICIDAL_IDEATION})


@pytest.mark.parametrize("key", [f"q{n}" for n in range(1, 9)])
def test_other_phq9_items_at_three_raise_no_flag(key: str) -> None:
    assert score_response(PHQ9, zeros(PHQ9) | {key: 3}).flags == frozenset()


def test_gad7_never_flags() -> None:
    assert score_response(GAD7, {k: 3 for k in GAD7.item_keys}).flags == frozenset()


# ------------------------------------------------------------------------------------------ the Score value


def test_score_records_instrument_version_answers_in_item_order() -> None:
    answers = {"q9": 1, "q8": 2, "q7": 0, "q6": 0, "q5": 0, "q4": 0, "q3": 0, "q2": 0, "q1": 3}
    score = score_response(PHQ9, answers)
    assert score == Score(
        instrument_code="phq9",
        instrument_version=1,
        total=6,
        max_total=27,
        band=Severity.MILD,
        flags=frozenset({RiskFlag.SUICIDAL_IDEATION}),
        answers=(("q1", 3), ("q2", 0), ("q3", 0), ("q4", 0), ("q5", 0), ("q6", 0), ("q7", 0), ("q8", 2), ("q9", 1)),
        difficulty=None,
    )
    assert type(score.instrument_code) is str
    with pytest.raises(KeyError):
        score.answer("q10")


def test_score_is_frozen_and_hashable() -> None:
    score = score_response(GAD7, zeros(GAD7))
    with pytest.raises(AttributeError):
        score.total = 5  # type: ignore[misc]
    assert hash(score) == hash(score_response(GAD7, zeros(GAD7)))


@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_difficulty_is_recorded_but_not_scored(value: int) -> None:
    answers = answers_for_total(PHQ9, 7, risk_item="q9")
    score = score_response(PHQ9, answers, difficulty=value)
    assert score.difficulty == value
    assert score.total == 7


# ---------------------------------------------------------------------------------- incomplete and invalid


def _rejects(instrument: Instrument, answers: object, code: str, field: str, **kw: object) -> None:
    with pytest.raises(ValidationFailed) as err:
        score_response(instrument, answers, **kw)  # type: ignore[arg-type]
    assert (err.value.code, err.value.field) == (code, field)


@pytest.mark.parametrize(("instrument", "key"), [(i, k) for i in (PHQ9, GAD7) for k in i.item_keys])
def test_every_missing_item_is_an_incomplete_response(instrument: Instrument, key: str) -> None:
    answers = zeros(instrument)
    del answers[key]
    _rejects(instrument, answers, "incomplete_response", f"answers.{key}")


@INSTRUMENTS
def test_a_null_answer_is_an_incomplete_response(instrument: Instrument) -> None:
    _rejects(instrument, zeros(instrument) | {"q3": None}, "incomplete_response", "answers.q3")


@INSTRUMENTS
def test_an_empty_form_names_the_first_item(instrument: Instrument) -> None:
    _rejects(instrument, {}, "incomplete_response", "answers.q1")


def test_the_first_missing_item_in_form_order_is_named() -> None:
    answers = zeros(PHQ9)
    del answers["q7"], answers["q2"]
    _rejects(PHQ9, answers, "incomplete_response", "answers.q2")


@pytest.mark.parametrize(
    ("instrument", "extra"),
    [(PHQ9, "q10"), (GAD7, "q8"), (GAD7, "q9"), (PHQ9, "Q1"), (PHQ9, "difficulty"), (PHQ9, "")],
)
def test_an_extra_answer_is_invalid(instrument: Instrument, extra: str) -> None:
    _rejects(instrument, zeros(instrument) | {extra: 0}, "invalid_answer", f"answers.{extra}")


def test_a_non_string_key_is_invalid() -> None:
    _rejects(GAD7, zeros(GAD7) | {1: 0}, "invalid_answer", "answers.1")


@INSTRUMENTS
@pytest.mark.parametrize("value", [-1, 4, 99, -100])
def test_an_out_of_range_answer_is_invalid(instrument: Instrument, value: int) -> None:
    _rejects(instrument, zeros(instrument) | {"q5": value}, "invalid_answer", "answers.q5")


@INSTRUMENTS
@pytest.mark.parametrize("value", [True, False, 1.0, 2.5, "1", "", [1], {"v": 1}, b"1"], ids=repr)
def test_a_bool_or_non_integer_answer_is_invalid(instrument: Instrument, value: object) -> None:
    _rejects(instrument, zeros(instrument) | {"q2": value}, "invalid_answer", "answers.q2")


@pytest.mark.parametrize("answers", [[0] * 9, "000000000", None, 0])
def test_answers_that_are_not_a_mapping_are_invalid(answers: object) -> None:
    _rejects(PHQ9, answers, "invalid_answer", "answers")


@pytest.mark.parametrize("value", [4, -1, True, 1.5, "2"], ids=repr)
def test_an_invalid_difficulty_answer_is_refused(value: object) -> None:
    _rejects(PHQ9, zeros(PHQ9), "invalid_answer", "difficulty", difficulty=value)


def test_gad7_takes_no_difficulty_answer() -> None:
    _rejects(GAD7, zeros(GAD7), "invalid_answer", "difficulty", difficulty=1)
    assert score_response(GAD7, zeros(GAD7), difficulty=None).difficulty is None


# ----------------------------------------------------------------------------------- completed responses


def test_complete_response_normalises_the_time_to_utc() -> None:
    local = datetime(2026, 5, 4, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    done = complete_response(
        PHQ9, zeros(PHQ9) | {"q9": 2}, id=uid(7), client_id=CLIENT, completed_at=local, assignment_id=uid(3)
    )
    assert done.completed_at == utc(2026, 5, 4, 13, 30)
    assert done.completed_at.utcoffset() == timedelta(0)
    assert (done.id, done.client_id, done.assignment_id, done.instrument_code) == (uid(7), CLIENT, uid(3), "phq9")
    assert done.score.flags == {RiskFlag.SUICIDAL_IDEATION}


def test_complete_response_refuses_a_naive_time_and_invalid_answers() -> None:
    with pytest.raises(ValidationFailed) as err:
        complete_response(GAD7, zeros(GAD7), id=uid(1), client_id=CLIENT, completed_at=datetime(2026, 5, 4, 9))
    assert err.value.code == "invalid_datetime"
    with pytest.raises(ValidationFailed) as err:
        complete_response(GAD7, {"q1": 1}, id=uid(1), client_id=CLIENT, completed_at=utc(2026, 5, 4))
    assert err.value.code == "incomplete_response"
