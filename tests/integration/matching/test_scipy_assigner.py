"""The optimal assigner (SciPy adapter): the same total as brute force on small instances, never below greedy on
larger ones, every capacity respected; and the whole batch from intakes to explained placements."""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest

from domain.matching.assignment import Assigner, GreedyAssigner, ScoreMatrix, verify_assignment
from domain.matching.batch import Outcome, QueuedClient, build_problem, plan_batch
from infra.matching.assignment import ScipyAssigner
from tests.unit.matching.factories import NOW, random_intake, random_therapist

METHODS = ("auto", "sparse", "dense", "lp")


def brute_force(scores: ScoreMatrix, capacities: Sequence[int]) -> float:
    """The best total over every way to give each client one allowed therapist or none."""
    best = 0.0
    choices = [[None, *(j for j, s in enumerate(row) if s is not None)] for row in scores]
    for pick in itertools.product(*choices):
        used = Counter(j for j in pick if j is not None)
        if any(used[j] > capacities[j] for j in used):
            continue
        total = math.fsum(s for row, j in zip(scores, pick, strict=True) if j is not None and (s := row[j]) is not None)
        best = max(best, total)
    return best


def random_problem(
    rng: random.Random, n: int, m: int, density: float, max_cap: int, *, negatives: bool = False
) -> tuple[list[list[float | None]], list[int]]:
    low = -20.0 if negatives else 0.0
    scores = [[round(rng.uniform(low, 100), 2) if rng.random() < density else None for _ in range(m)] for _ in range(n)]
    # Some ties and zeros too: they must not confuse the solvers.
    for row in scores:
        if row and rng.random() < 0.2:
            row[rng.randrange(m)] = rng.choice([0.0, 50.0])
    return scores, [rng.randint(0, max_cap) for _ in range(m)]


def used_within_capacity(therapist_for: Sequence[int | None], capacities: Sequence[int]) -> bool:
    used = Counter(j for j in therapist_for if j is not None)
    return all(used[j] <= capacities[j] for j in used)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(40))
def test_same_optimal_total_as_brute_force(method: str, seed: int) -> None:
    rng = random.Random(seed)
    scores, caps = random_problem(
        rng, rng.randint(1, 6), rng.randint(1, 4), rng.choice([0.3, 0.7, 1.0]), 2, negatives=seed % 4 == 0
    )
    result = ScipyAssigner(method).assign(scores, caps)  # type: ignore[arg-type]
    verify_assignment(scores, caps, result)
    assert used_within_capacity(result.therapist_for, caps)
    assert result.total == pytest.approx(brute_force(scores, caps), abs=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_strictly_better_than_greedy_where_greedy_is_wrong(method: str) -> None:
    scores: ScoreMatrix = [[10.0, 9.0], [8.0, None]]
    result = ScipyAssigner(method).assign(scores, [1, 1])  # type: ignore[arg-type]
    assert result.therapist_for == (1, 0)
    assert result.total == 17.0
    assert GreedyAssigner().assign(scores, [1, 1]).total == 10.0


@pytest.mark.parametrize("seed", range(8))
def test_never_below_greedy_and_all_methods_agree(seed: int) -> None:
    rng = random.Random(100 + seed)
    scores, caps = random_problem(rng, 150, 40, rng.choice([0.05, 0.2, 0.6, 1.0]), rng.choice([1, 3, 8]))
    greedy = GreedyAssigner().assign(scores, caps)
    totals = []
    for method in METHODS:
        result = ScipyAssigner(method).assign(scores, caps)  # type: ignore[arg-type]
        verify_assignment(scores, caps, result)
        assert result.total >= greedy.total - 1e-6
        totals.append(result.total)
    assert max(totals) - min(totals) < 1e-6


def test_unassigned_only_when_no_allowed_therapist_has_room() -> None:
    scores: ScoreMatrix = [[5.0, None], [6.0, None], [None, None], [1.0, 2.0]]
    result = ScipyAssigner().assign(scores, [1, 0])
    assert result.therapist_for == (None, 0, None, None)
    assert result.total == 6.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("scores", "caps"),
    [([], [2]), ([[], []], []), ([[None, None]], [1, 1]), ([[3.0, 4.0]], [0, 0]), ([[-1.0]], [1])],
    ids=["no-clients", "no-therapists", "all-forbidden", "no-room", "only-negative"],
)
def test_degenerate_problems(method: str, scores: ScoreMatrix, caps: list[int]) -> None:
    result = ScipyAssigner(method).assign(scores, caps)  # type: ignore[arg-type]
    assert result.therapist_for == tuple(None for _ in scores)
    assert result.total == 0.0


def test_auto_picks_sparse_for_sparse_and_dense_for_dense_problems() -> None:
    rng = random.Random(1)
    sparse_scores, caps = random_problem(rng, 200, 50, 0.03, 3)
    dense_scores, _ = random_problem(rng, 200, 50, 1.0, 3)
    assigner = ScipyAssigner()
    chosen = []
    for scores in (sparse_scores, dense_scores):
        assigner.assign(scores, caps)
        chosen.append(assigner.last_method)
    assert chosen == ["sparse", "dense"]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError):
        ScipyAssigner("magic")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- end to end


@pytest.mark.parametrize("seed", range(3))
def test_batch_from_intakes_is_optimal_valid_and_explained(seed: int) -> None:
    rng = random.Random(seed)
    pool = [random_therapist(rng, n) for n in range(40)]
    queue = [QueuedClient(uuid.UUID(int=10_000 + i), random_intake(rng)) for i in range(120)]
    problem = build_problem(queue, pool, now=NOW)
    optimal: Assigner = ScipyAssigner()
    plan = plan_batch(problem, optimal)
    greedy = plan_batch(problem, GreedyAssigner())

    assert plan.total_score >= greedy.total_score - 1e-6
    per_therapist = Counter(p.therapist_id for p in plan.placements if p.therapist_id is not None)
    for candidate in pool:
        assert per_therapist[candidate.therapist_id] <= candidate.room
    assert plan.total_score == pytest.approx(sum(p.match.score for p in plan.placements if p.match is not None))
    for i, placement in enumerate(plan.placements):
        if placement.outcome is Outcome.ASSIGNED:
            assert placement.why[0].startswith("licensed in ")
        elif placement.outcome is Outcome.NO_FIT:
            assert all(s is None for s in problem.scores[i])
            assert placement.why == ("no therapist with room fits your needs",)
        else:
            assert placement.outcome is Outcome.ROOM_TAKEN
            assert any(s is not None for s in problem.scores[i])
    assert plan.assigned > 0
