from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest

from domain.matching.assignment import Assignment, GreedyAssigner, ScoreMatrix, assignment_of
from domain.matching.batch import NO_FIT_TEXT, Outcome, QueuedClient, build_problem, plan_batch
from domain.matching.intake import Concern
from domain.matching.scoring import Match, evaluate
from domain.shared.errors import InvalidState, ValidationFailed
from tests.unit.matching.factories import NOW, intake, random_intake, random_therapist, therapist, tid


def cid(n: int) -> uuid.UUID:
    return uuid.UUID(int=1000 + n)


class FixedAssigner:
    """Answers whatever it is told to (a stand-in for an adapter, right or wrong)."""

    def __init__(self, therapist_for: tuple[int | None, ...], total: float | None = None) -> None:
        self.therapist_for = therapist_for
        self.total = total

    def assign(self, scores: ScoreMatrix, capacities: Sequence[int]) -> Assignment:
        answer = assignment_of(scores, self.therapist_for)
        return answer if self.total is None else Assignment(answer.therapist_for, self.total)


def test_scores_are_the_suggestion_scores() -> None:
    rng = random.Random(5)
    pool = [random_therapist(rng, n) for n in range(25)]
    queue = [QueuedClient(cid(i), random_intake(rng)) for i in range(15)]
    problem = build_problem(queue, pool, now=NOW)
    allowed = 0
    for i, q in enumerate(queue):
        for j, candidate in enumerate(pool):
            result = evaluate(q.intake, candidate, now=NOW)
            expected = result.score if isinstance(result, Match) else None
            assert problem.scores[i][j] == expected
            allowed += expected is not None
    assert allowed > 0
    assert problem.capacities == tuple(c.room for c in pool)


def test_outcomes_and_explanations() -> None:
    pool = [therapist(1, caseload=19, caseload_capacity=20)]  # one place left
    queue = [
        QueuedClient(cid(0), intake(concerns=(Concern.ANXIETY,))),  # specialty fits: the better pair
        QueuedClient(cid(1), intake(concerns=(Concern.CHRONIC_ILLNESS,))),  # fits the rules, loses the place
        QueuedClient(cid(2), intake(residence="US-TX")),  # nobody licensed in Texas
        QueuedClient(cid(3), intake(consent_to_match=False)),
    ]
    plan = plan_batch(build_problem(queue, pool, now=NOW), GreedyAssigner())
    outcomes = [p.outcome for p in plan.placements]
    assert outcomes == [Outcome.ASSIGNED, Outcome.ROOM_TAKEN, Outcome.NO_FIT, Outcome.NO_CONSENT]
    first = plan.placements[0]
    assert first.therapist_id == tid(1)
    assert first.why[:2] == ("licensed in Ohio", "specializes in anxiety")
    assert first.match is not None and plan.total_score == first.match.score
    assert plan.placements[2].why == (NO_FIT_TEXT,)
    assert plan.placements[1].why != (NO_FIT_TEXT,)
    assert plan.assigned == 1


def test_capacity_is_the_room_left() -> None:
    pool = [therapist(1, caseload=17, caseload_capacity=20), therapist(2, accepting_new_clients=False)]
    queue = [QueuedClient(cid(i), intake()) for i in range(5)]
    problem = build_problem(queue, pool, now=NOW)
    assert problem.capacities == (3, 0)
    plan = plan_batch(problem, GreedyAssigner())
    assert Counter(p.therapist_id for p in plan.placements) == {tid(1): 3, None: 2}


@pytest.mark.parametrize(
    ("answer", "total"),
    [((0, 0), None), ((1, None), None), ((0, None), 123.0)],
    ids=["over-capacity", "forbidden", "wrong-total"],
)
def test_a_wrong_adapter_answer_is_refused(answer: tuple[int | None, ...], total: float | None) -> None:
    pool = [therapist(1, caseload=19, caseload_capacity=20), therapist(2, licenses=("US-NY",))]
    queue = [QueuedClient(cid(0), intake()), QueuedClient(cid(1), intake())]
    problem = build_problem(queue, pool, now=NOW)
    with pytest.raises(InvalidState):
        plan_batch(problem, FixedAssigner(answer, total))


def test_an_excluded_therapist_is_never_assigned() -> None:
    pool = [therapist(1), therapist(2, caseload=19)]  # 1 is the better fit (lighter caseload)
    switching = QueuedClient(cid(0), intake(), exclude=frozenset({tid(1)}))
    problem = build_problem([switching], pool, now=NOW)
    assert problem.scores[0][0] is None and problem.scores[0][1] is not None
    assert plan_batch(problem, GreedyAssigner()).placements[0].therapist_id == tid(2)
    alone = build_problem([QueuedClient(cid(1), intake(), exclude=frozenset({tid(1)}))], pool[:1], now=NOW)
    assert plan_batch(alone, GreedyAssigner()).placements[0].outcome is Outcome.NO_FIT


def test_duplicates_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        build_problem([QueuedClient(cid(0), intake()), QueuedClient(cid(0), intake())], [therapist(1)], now=NOW)
    assert err.value.code == "duplicate_client"
    with pytest.raises(ValidationFailed) as err:
        build_problem([QueuedClient(cid(0), intake())], [therapist(1), therapist(1)], now=NOW)
    assert err.value.code == "duplicate_therapist"


def test_reasons_of_a_placement_match_its_score() -> None:
    rng = random.Random(9)
    pool = [random_therapist(rng, n) for n in range(30)]
    queue = [QueuedClient(cid(i), random_intake(rng)) for i in range(30)]
    problem = build_problem(queue, pool, now=NOW)
    plan = plan_batch(problem, GreedyAssigner())
    placed = [p for p in plan.placements if p.match is not None]
    assert placed
    columns = {c.therapist_id: j for j, c in enumerate(pool)}
    for i, p in enumerate(plan.placements):
        if p.match is not None:
            assert p.match.score == problem.scores[i][columns[p.match.therapist_id]]
            assert p.why[0].startswith("licensed in ")
