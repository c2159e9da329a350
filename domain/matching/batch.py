"""Assigning a waiting queue at once: scores for every allowed pair, an `Assigner` for the best total within
every therapist's room, and, per client, why.

`build_problem` scores each (client, therapist) pair with the same rules and scoring as suggestions (a pair that
fails a hard rule is `None`; capacities are each therapist's `room`). `plan_batch` runs an assigner on it,
checks the answer (`assignment.verify_assignment`: an adapter bug can never put a client with a forbidden
therapist or a therapist over capacity), and explains each placement: the match's reasons, or why not.

Real availability is computed once per therapist and session length and shared by every client (the costly
part of scoring), and pairs whose licence cannot match are skipped through an index by licence code (exactly
the pairs `rules.licensed_where_client_lives` refuses).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.matching.assignment import Assigner, Assignment, verify_assignment
from domain.matching.availability import OpenSlots, open_slots
from domain.matching.candidates import Candidate
from domain.matching.intake import Intake
from domain.matching.rules import first_failure
from domain.matching.scoring import (
    DEFAULT_WEIGHTS,
    ClientView,
    Match,
    Weights,
    client_view,
    score_eligible,
    validate_weights,
)
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import ValidationFailed

NO_FIT_TEXT = "no therapist with room fits your needs"
ROOM_TAKEN_TEXT = "the therapists who fit your needs have no room left in this round of matching"
NO_CONSENT_TEXT = "you have not consented to be matched"


@dataclass(frozen=True, slots=True)
class QueuedClient:
    client_id: uuid.UUID
    intake: Intake
    exclude: frozenset[uuid.UUID] = frozenset()  # therapists never to assign (the current one, on a switch)


class Outcome(StrEnum):
    ASSIGNED = "assigned"
    NO_FIT = "no_fit"  # no therapist with room passes the hard rules for this client
    ROOM_TAKEN = "room_taken"  # some did, but the best total gave their room to other clients
    NO_CONSENT = "no_consent"


@dataclass(frozen=True, slots=True)
class Placement:
    client_id: uuid.UUID
    outcome: Outcome
    match: Match | None = None  # set when assigned: the therapist, score and reasons

    @property
    def therapist_id(self) -> uuid.UUID | None:
        return None if self.match is None else self.match.therapist_id

    @property
    def why(self) -> tuple[str, ...]:
        if self.match is not None:
            return self.match.reason_texts
        return (
            {Outcome.NO_CONSENT: NO_CONSENT_TEXT, Outcome.ROOM_TAKEN: ROOM_TAKEN_TEXT}.get(self.outcome, NO_FIT_TEXT),
        )


@dataclass(frozen=True, slots=True)
class BatchPlan:
    placements: tuple[Placement, ...]
    total_score: float

    @property
    def assigned(self) -> int:
        return sum(1 for p in self.placements if p.outcome is Outcome.ASSIGNED)


class _SlotCache:
    """Open slots per (therapist, length), computed once for the whole batch."""

    def __init__(self, now: datetime, horizon: timedelta) -> None:
        self._now = now
        self._horizon = horizon
        self._slots: dict[tuple[uuid.UUID, int], OpenSlots] = {}

    def __call__(self, candidate: Candidate, minutes: int) -> OpenSlots:
        key = (candidate.therapist_id, minutes)
        found = self._slots.get(key)
        if found is None:
            found = self._slots[key] = open_slots(candidate, minutes, self._now, self._horizon)
        return found


@dataclass(frozen=True, slots=True)
class BatchProblem:
    queue: tuple[QueuedClient, ...]
    candidates: tuple[Candidate, ...]
    scores: tuple[tuple[float | None, ...], ...]  # rows: queue; columns: candidates
    capacities: tuple[int, ...]
    weights: Weights
    _views: tuple[ClientView | None, ...] = dataclass_field(repr=False, compare=False)
    _slots: _SlotCache = dataclass_field(repr=False, compare=False)


def build_problem(
    queue: Sequence[QueuedClient],
    candidates: Sequence[Candidate],
    *,
    now: datetime,
    weights: Weights = DEFAULT_WEIGHTS,
) -> BatchProblem:
    """Score every allowed pair. Raises `ValidationFailed`: `invalid_weights`, `duplicate_client`,
    `duplicate_therapist`."""
    validate_weights(weights)
    if len({q.client_id for q in queue}) != len(queue):
        raise ValidationFailed("A client is in the queue twice.", code="duplicate_client", field="queue")
    if len({c.therapist_id for c in candidates}) != len(candidates):
        raise ValidationFailed("A therapist is listed twice.", code="duplicate_therapist", field="candidates")
    views = tuple(client_view(q.intake, now, weights) if q.intake.consent_to_match is True else None for q in queue)
    cache = _SlotCache(ensure_utc(now, field="now"), timedelta(days=weights.horizon_days))
    by_licence: dict[str, list[int]] = {}
    for j, candidate in enumerate(candidates):
        for licence in candidate.profile.licenses:
            by_licence.setdefault(licence, []).append(j)

    width = len(candidates)
    rows: list[tuple[float | None, ...]] = []
    for q, view in zip(queue, views, strict=True):
        row: list[float | None] = [None] * width
        if view is not None:
            for j in by_licence.get(q.intake.residence, ()):
                candidate = candidates[j]
                if candidate.therapist_id not in q.exclude and first_failure(q.intake, candidate) is None:
                    row[j] = score_eligible(view, candidate, weights, slots=cache, explain=False).score
        rows.append(tuple(row))
    return BatchProblem(
        queue=tuple(queue),
        candidates=tuple(candidates),
        scores=tuple(rows),
        capacities=tuple(c.room for c in candidates),
        weights=weights,
        _views=views,
        _slots=cache,
    )


def plan_batch(problem: BatchProblem, assigner: Assigner) -> BatchPlan:
    """Assign with `assigner`, verify its answer, and explain every placement."""
    assignment: Assignment = assigner.assign(problem.scores, problem.capacities)
    verify_assignment(problem.scores, problem.capacities, assignment)
    placements: list[Placement] = []
    for i, (q, view) in enumerate(zip(problem.queue, problem._views, strict=True)):
        j = assignment.therapist_for[i]
        if view is None:
            placements.append(Placement(q.client_id, Outcome.NO_CONSENT))
        elif j is not None:
            match = score_eligible(view, problem.candidates[j], problem.weights, slots=problem._slots)
            placements.append(Placement(q.client_id, Outcome.ASSIGNED, match))
        elif any(s is not None for s in problem.scores[i]):
            placements.append(Placement(q.client_id, Outcome.ROOM_TAKEN))
        else:
            placements.append(Placement(q.client_id, Outcome.NO_FIT))
    return BatchPlan(tuple(placements), assignment.total)
