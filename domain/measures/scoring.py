"""Scoring a completed questionnaire: all-or-nothing validation, the total, its severity band and risk flags.

Every item must be answered with an integer from the instrument's options (0-3): a missing or `null` answer is
`incomplete_response`; an unknown key, a value out of range, a `bool`, a float or a string is `invalid_answer`.
The error's `field` is `answers.<item key>` (or `answers` / `difficulty`). No partial score is ever produced.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from domain.measures.instruments import Instrument, RiskFlag, Severity
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import ValidationFailed, quoted


@dataclass(frozen=True, slots=True)
class Score:
    instrument_code: str
    instrument_version: int
    total: int
    max_total: int
    band: Severity
    flags: frozenset[RiskFlag]
    answers: tuple[tuple[str, int], ...]  # (item key, answer) in item order
    difficulty: int | None = None  # the unscored functional-difficulty answer, when given

    def answer(self, key: str) -> int:
        for item_key, value in self.answers:
            if item_key == key:
                return value
        raise KeyError(key)

    @property
    def band_label(self) -> str:
        return self.band.label


@dataclass(frozen=True, slots=True)
class ScoredResponse:
    """One completed questionnaire of a client, as stored (answers are encrypted at rest by the adapter)."""

    id: uuid.UUID
    client_id: uuid.UUID
    completed_at: datetime
    score: Score
    assignment_id: uuid.UUID | None = None

    @property
    def instrument_code(self) -> str:
        return self.score.instrument_code


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_answer(value: object, *, maximum: int, field: str, what: str) -> int:
    if value is None:
        raise ValidationFailed(f"{what} is not answered.", code="incomplete_response", field=field)
    if not _is_int(value):
        raise ValidationFailed(f"{what} must be a whole number.", code="invalid_answer", field=field)
    if not 0 <= value <= maximum:
        raise ValidationFailed(f"{what} must be between 0 and {maximum}.", code="invalid_answer", field=field)
    return value


def score_response(instrument: Instrument, answers: Mapping[str, object], *, difficulty: object = None) -> Score:
    """Validate and score `answers` (item key -> 0..3). `difficulty` is the optional, unscored answer to the
    instrument's functional-difficulty question (refused with `invalid_answer` if the instrument has none)."""
    if not isinstance(answers, Mapping):
        raise ValidationFailed("Answers must map item keys to values.", code="invalid_answer", field="answers")
    keys = instrument.item_keys
    unknown = sorted(str(key) for key in answers if key not in keys)
    if unknown:
        raise ValidationFailed(
            f"{instrument.name} has no item {quoted(unknown[0])}.", code="invalid_answer", field=f"answers.{unknown[0]}"
        )
    values: list[tuple[str, int]] = []
    for item in instrument.items:
        value = _checked_answer(
            answers.get(item.key),
            maximum=instrument.max_answer,
            field=f"answers.{item.key}",
            what=f"Item {item.number}",
        )
        values.append((item.key, value))
    difficulty_answer: int | None = None
    if difficulty is not None:
        question = instrument.difficulty
        if question is None:
            raise ValidationFailed(
                f"{instrument.name} has no difficulty question.", code="invalid_answer", field="difficulty"
            )
        difficulty_answer = _checked_answer(
            difficulty, maximum=question.options[-1].value, field="difficulty", what="The difficulty question"
        )
    total = sum(value for _, value in values)
    by_key = dict(values)
    flags = frozenset(rule.flag for rule in instrument.risk_rules if by_key[rule.item_key] >= rule.minimum_answer)
    return Score(
        instrument_code=str(instrument.code),
        instrument_version=instrument.version,
        total=total,
        max_total=instrument.max_total,
        band=instrument.band_for(total).severity,
        flags=flags,
        answers=tuple(values),
        difficulty=difficulty_answer,
    )


def complete_response(
    instrument: Instrument,
    answers: Mapping[str, object],
    *,
    id: uuid.UUID,
    client_id: uuid.UUID,
    completed_at: datetime,
    assignment_id: uuid.UUID | None = None,
    difficulty: object = None,
) -> ScoredResponse:
    """Score `answers` and wrap them as a client's completed response (`completed_at` normalised to UTC)."""
    score = score_response(instrument, answers, difficulty=difficulty)
    return ScoredResponse(
        id=id,
        client_id=client_id,
        completed_at=ensure_utc(completed_at, field="completed_at"),
        score=score,
        assignment_id=assignment_id,
    )
