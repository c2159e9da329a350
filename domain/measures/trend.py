"""Scores over time, and numeric plan objectives such as "PHQ-9 total < 10".

A trend is one instrument's scored responses in time order (ties broken by response id, so the order is stable).
The change is latest total minus first total (negative = fewer symptoms). A point keeps the band it was scored
with, so a later instrument version never re-reads an old response.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from typing import TypeGuard

from domain.measures.instruments import Instrument, Severity
from domain.measures.scoring import ScoredResponse
from domain.shared.errors import ValidationFailed

DEFAULT_CUTOFF = 10  # the usual clinical cut-off for both PHQ-9 and GAD-7


class Comparison(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="


_OPERATORS: dict[Comparison, Callable[[int, int], bool]] = {
    Comparison.LT: operator.lt,
    Comparison.LE: operator.le,
    Comparison.GT: operator.gt,
    Comparison.GE: operator.ge,
    Comparison.EQ: operator.eq,
}


class ObjectiveResult(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_SCORES = "no_scores"  # nothing to judge by yet: leave the objective's status as it is


@dataclass(frozen=True, slots=True)
class TrendPoint:
    response_id: uuid.UUID
    completed_at: datetime
    date: date
    total: int
    band: Severity


@dataclass(frozen=True, slots=True)
class Trend:
    instrument_code: str
    cutoff: int
    points: tuple[TrendPoint, ...]

    @property
    def first(self) -> TrendPoint | None:
        return self.points[0] if self.points else None

    @property
    def latest(self) -> TrendPoint | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> int | None:
        """Latest total minus first total; `None` without scores (0 with a single score)."""
        if not self.points:
            return None
        return self.points[-1].total - self.points[0].total

    @property
    def latest_below_cutoff(self) -> bool | None:
        latest = self.latest
        return None if latest is None else latest.total < self.cutoff


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_order(responses: Iterable[ScoredResponse]) -> list[ScoredResponse]:
    return sorted(responses, key=lambda r: (r.completed_at, r.id))


def trend(
    responses: Iterable[ScoredResponse],
    *,
    instrument_code: str,
    cutoff: int = DEFAULT_CUTOFF,
    tz: tzinfo = UTC,
) -> Trend:
    """The `instrument_code` responses among `responses` as a time series (other instruments are left out).
    A point's `date` is its completion day in `tz`. `cutoff` is a total >= 0 (`invalid_cutoff`)."""
    if not _whole(cutoff) or cutoff < 0:
        raise ValidationFailed("The cut-off is a total of 0 or more.", code="invalid_cutoff", field="cutoff")
    points = tuple(
        TrendPoint(
            response_id=r.id,
            completed_at=r.completed_at,
            date=r.completed_at.astimezone(tz).date(),
            total=r.score.total,
            band=r.score.band,
        )
        for r in _in_order(r for r in responses if r.instrument_code == instrument_code)
    )
    return Trend(instrument_code=instrument_code, cutoff=cutoff, points=points)


def parse_comparison(value: Comparison | str) -> Comparison:
    try:
        return Comparison(value)
    except ValueError:
        raise ValidationFailed(
            f"A comparison is one of {', '.join(c.value for c in Comparison)}.",
            code="invalid_comparison",
            field="comparison",
        ) from None


def compare(total: int, comparison: Comparison | str, target_total: int) -> bool:
    """`total <comparison> target_total`, e.g. `compare(8, "<", 10)` is True."""
    return _OPERATORS[parse_comparison(comparison)](total, target_total)


def validate_objective_target(
    instrument: Instrument, comparison: Comparison | str, target_total: object
) -> tuple[Comparison, int]:
    """Check a numeric objective on `instrument` when a plan sets it: the target is a whole total within
    0..max and some total can meet it ("< 0" or "> 27" cannot). Codes `invalid_comparison`, `invalid_target`."""
    kind = parse_comparison(comparison)
    if not _whole(target_total) or not 0 <= target_total <= instrument.max_total:
        raise ValidationFailed(
            f"The target is a {instrument.name} total from 0 to {instrument.max_total}.",
            code="invalid_target",
            field="target_total",
        )
    if not any(_OPERATORS[kind](total, target_total) for total in range(instrument.max_total + 1)):
        raise ValidationFailed(
            f"No {instrument.name} total is {kind.value} {target_total}.", code="invalid_target", field="target_total"
        )
    return kind, target_total


def objective_status(
    target_total: int,
    comparison: Comparison | str,
    scores: Iterable[ScoredResponse],
    *,
    instrument_code: str | None = None,
) -> ObjectiveResult:
    """Whether the latest score meets "total <comparison> target_total".

    With `instrument_code` only that instrument's responses are looked at; without it all `scores` must be of
    one instrument (`mixed_instruments`). No scores gives `no_scores`."""
    kind = parse_comparison(comparison)
    if not _whole(target_total) or target_total < 0:
        raise ValidationFailed("The target is a total of 0 or more.", code="invalid_target", field="target_total")
    pool = [s for s in scores if instrument_code is None or s.instrument_code == instrument_code]
    if len({s.instrument_code for s in pool}) > 1:
        raise ValidationFailed(
            "An objective is judged on one questionnaire's scores.", code="mixed_instruments", field="scores"
        )
    if not pool:
        return ObjectiveResult.NO_SCORES
    latest = _in_order(pool)[-1]
    return ObjectiveResult.MET if _OPERATORS[kind](latest.score.total, target_total) else ObjectiveResult.NOT_MET
