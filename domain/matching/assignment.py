"""Capacity-aware assignment: the `Assigner` port, a greedy baseline, and the checks every assigner's answer
must pass.

The problem: `scores[i][j]` is how well client `i` fits therapist `j`, or `None` when a hard rule forbids the
pair; `capacities[j]` is how many more clients therapist `j` takes. An assignment gives each client at most one
therapist, never a forbidden one, and no therapist more clients than their capacity. Its total is the sum of
the chosen scores; an unassigned client adds nothing, so a pair with a negative score is never worth taking.

* `GreedyAssigner` (here, pure Python): pairs by descending score, taken while both sides are free. Fast,
  simple, and not optimal: it is the baseline the optimal adapter is measured against.
* The optimal assigner (maximum total) is an adapter, `infra.matching.assignment.ScipyAssigner`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.shared.errors import InvalidState, ValidationFailed

ScoreMatrix = Sequence[Sequence[float | None]]  # rows: clients; columns: therapists; None: not allowed


@dataclass(frozen=True, slots=True)
class Assignment:
    therapist_for: tuple[int | None, ...]  # per client row: the therapist column, or None (unassigned)
    total: float

    @property
    def assigned(self) -> int:
        return sum(1 for j in self.therapist_for if j is not None)


class Assigner(Protocol):
    def assign(self, scores: ScoreMatrix, capacities: Sequence[int]) -> Assignment:
        """A valid assignment (see `verify_assignment`); an optimal assigner's total is the maximum."""
        ...


def validate_problem(scores: ScoreMatrix, capacities: Sequence[int]) -> None:
    """Raise `ValidationFailed(code="invalid_assignment_problem")` unless every row has one entry per
    capacity, entries are finite numbers or `None`, and capacities are non-negative integers."""
    width = len(capacities)
    for c in capacities:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValidationFailed(
                "Capacities are non-negative integers.", code="invalid_assignment_problem", field="capacities"
            )
    for row in scores:
        if len(row) != width:
            raise ValidationFailed(
                "Every client row has one score per therapist.", code="invalid_assignment_problem", field="scores"
            )
        for s in row:
            if s is not None and (isinstance(s, bool) or not isinstance(s, int | float) or not math.isfinite(s)):
                raise ValidationFailed(
                    "Scores are finite numbers or None.", code="invalid_assignment_problem", field="scores"
                )


def assignment_of(scores: ScoreMatrix, therapist_for: Sequence[int | None]) -> Assignment:
    """An `Assignment` with its total computed from `scores` (exactly rounded sum)."""
    chosen = tuple(therapist_for)
    total = math.fsum(s for row, j in zip(scores, chosen, strict=True) if j is not None and (s := row[j]) is not None)
    return Assignment(chosen, total)


def verify_assignment(scores: ScoreMatrix, capacities: Sequence[int], assignment: Assignment) -> None:
    """Raise `InvalidState(code="invalid_assignment")` unless the assignment is valid for the problem: one entry
    per client, only allowed pairs, no therapist over capacity, and the total it claims."""

    def bad(detail: str) -> InvalidState:
        return InvalidState(detail, code="invalid_assignment")

    if len(assignment.therapist_for) != len(scores):
        raise bad("The assignment does not cover every client exactly once.")
    used = [0] * len(capacities)
    for i, j in enumerate(assignment.therapist_for):
        if j is None:
            continue
        if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < len(capacities):
            raise bad(f"Client {i} is given an unknown therapist column {j!r}.")
        if scores[i][j] is None:
            raise bad(f"Client {i} is given therapist {j}, a pair the hard rules forbid.")
        used[j] += 1
        if used[j] > capacities[j]:
            raise bad(f"Therapist {j} is given more than their capacity of {capacities[j]}.")
    expected = assignment_of(scores, assignment.therapist_for).total
    if not math.isclose(assignment.total, expected, rel_tol=1e-9, abs_tol=1e-6):
        raise bad(f"The assignment claims a total of {assignment.total}, its pairs add up to {expected}.")


class GreedyAssigner:
    """Highest score first (ties: lower client row, then lower therapist column), while both sides are free.
    Pairs with a negative score are skipped."""

    def assign(self, scores: ScoreMatrix, capacities: Sequence[int]) -> Assignment:
        validate_problem(scores, capacities)
        pairs = sorted(
            (-s, i, j) for i, row in enumerate(scores) for j, s in enumerate(row) if s is not None and s >= 0
        )
        room = list(capacities)
        chosen: list[int | None] = [None] * len(scores)
        for _, i, j in pairs:
            if chosen[i] is None and room[j] > 0:
                chosen[i] = j
                room[j] -= 1
        return assignment_of(scores, chosen)
