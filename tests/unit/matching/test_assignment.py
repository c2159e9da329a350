from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest

from domain.matching.assignment import (
    Assignment,
    GreedyAssigner,
    ScoreMatrix,
    assignment_of,
    validate_problem,
    verify_assignment,
)
from domain.shared.errors import InvalidState, ValidationFailed


def random_problem(rng: random.Random, n: int, m: int, density: float) -> tuple[list[list[float | None]], list[int]]:
    scores = [[round(rng.uniform(0, 100), 2) if rng.random() < density else None for _ in range(m)] for _ in range(n)]
    return scores, [rng.randint(0, 3) for _ in range(m)]


# ---------------------------------------------------------------------------------------------- greedy


def test_greedy_takes_the_best_pair_first_and_is_not_optimal() -> None:
    scores: ScoreMatrix = [[10.0, 9.0], [8.0, None]]
    result = GreedyAssigner().assign(scores, [1, 1])
    assert result.therapist_for == (0, None)  # client 1 only fits therapist 0, who went to client 0
    assert result.total == 10.0  # the optimum, (1, 0), is 17


@pytest.mark.parametrize("seed", range(20))
def test_greedy_is_always_valid(seed: int) -> None:
    rng = random.Random(seed)
    scores, caps = random_problem(rng, rng.randint(0, 30), rng.randint(1, 8), rng.random())
    result = GreedyAssigner().assign(scores, caps)
    verify_assignment(scores, caps, result)
    used = Counter(j for j in result.therapist_for if j is not None)
    assert all(used[j] <= caps[j] for j in range(len(caps)))
    # Maximal: nobody left unassigned could still take an allowed therapist with room.
    for i, j in enumerate(result.therapist_for):
        if j is None:
            assert all(s is None or used[k] >= caps[k] for k, s in enumerate(scores[i]))


def test_greedy_skips_negative_scores_and_forbidden_pairs() -> None:
    result = GreedyAssigner().assign([[-1.0, None], [None, 0.0]], [5, 5])
    assert result.therapist_for == (None, 1)
    assert result.total == 0.0


def test_greedy_ties_go_to_the_earlier_client() -> None:
    assert GreedyAssigner().assign([[50.0], [50.0]], [1]).therapist_for == (0, None)


def test_empty_problems() -> None:
    assert GreedyAssigner().assign([], [1, 2]) == Assignment((), 0.0)
    assert GreedyAssigner().assign([[], []], []) == Assignment((None, None), 0.0)


# ---------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("scores", "caps", "field"),
    [
        ([[1.0, 2.0], [1.0]], [1, 1], "scores"),
        ([[float("nan")]], [1], "scores"),
        ([[float("inf")]], [1], "scores"),
        ([[True]], [1], "scores"),
        ([["1"]], [1], "scores"),
        ([[1.0]], [-1], "capacities"),
        ([[1.0]], [1.5], "capacities"),
    ],
)
def test_malformed_problems_are_refused(scores: ScoreMatrix, caps: Sequence[int], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_problem(scores, caps)
    assert (err.value.code, err.value.field) == ("invalid_assignment_problem", field)
    with pytest.raises(ValidationFailed):
        GreedyAssigner().assign(scores, caps)


SCORES: ScoreMatrix = [[10.0, None], [5.0, 7.0], [4.0, 3.0]]


@pytest.mark.parametrize(
    ("therapist_for", "total", "message"),
    [
        ((0, 1), 17.0, "every client"),
        ((1, None, None), 0.0, "forbid"),
        ((0, 0, None), 15.0, "capacity"),
        ((0, 2, None), 10.0, "unknown"),
        ((0, 1, None), 99.0, "claims a total"),
    ],
)
def test_invalid_answers_are_caught(therapist_for: tuple[int | None, ...], total: float, message: str) -> None:
    with pytest.raises(InvalidState) as err:
        verify_assignment(SCORES, [1, 1], Assignment(therapist_for, total))
    assert err.value.code == "invalid_assignment"
    assert message in err.value.detail


def test_a_valid_answer_passes_and_its_total_is_exact() -> None:
    answer = assignment_of(SCORES, (0, 1, None))
    assert answer.total == 17.0
    assert answer.assigned == 2
    verify_assignment(SCORES, [1, 1], answer)
