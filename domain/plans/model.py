"""Therapy plans: content, validation, status transitions, versions, acknowledgements and progress.

A `TherapyPlan` is one version of the plan of one client-therapist relationship (in one practice). Its clinical
content is a `PlanDocument` (problems, goals with measurable objectives, interventions, review date), which the
service encrypts as one payload (`PlanDocument.to_dict`). Plans are immutable values: `revise` returns the next
version and leaves the previous one untouched, so the service can keep every version as a readable snapshot.

Statuses (goals and objectives alike) move only along `STATUS_TRANSITIONS`. An item that is still open
(`not_started`, `in_progress`, `revised`) may not silently disappear in a revision: close it first
(`achieved` or `discontinued`), then a later revision may drop it (earlier versions still show it).

Progress is recorded per goal from signed notes (`record_progress`) as `ProgressEntry` values kept beside the
versions; `progress_history` orders them for one goal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType

from domain.plans import jsondoc as j
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import Forbidden, StaleVersion, ValidationFailed

MAX_PROBLEMS = 20
MAX_GOALS = 20
MAX_OBJECTIVES_PER_GOAL = 10
MAX_INTERVENTIONS = 30
MAX_TEXT = 2000  # a problem, goal, objective or intervention
MAX_FREQUENCY = 200
MAX_COMMENT = 2000  # a progress comment
MAX_SCORE_VALUE = 1000  # questionnaire totals are small non-negative integers (PHQ-9: 0-27)
INSTRUMENT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")

PLAN_DOCUMENT_VERSION = 1
PROGRESS_DOCUMENT_VERSION = 1


# ---------------------------------------------------------------------------------------------- statuses


class ItemStatus(StrEnum):
    """Status of a goal or an objective."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    REVISED = "revised"  # reworded or re-targeted at a revision; work on it continues
    DISCONTINUED = "discontinued"


_I = ItemStatus

# Legal moves. Nothing returns to `not_started`; `achieved` can be reopened (a relapse, or a score that no
# longer meets its target) or revised (a harder target); a discontinued item can only be resumed. A status
# never "moves" to itself: keeping a status is not a transition and is always allowed.
STATUS_TRANSITIONS: Mapping[ItemStatus, frozenset[ItemStatus]] = MappingProxyType(
    {
        _I.NOT_STARTED: frozenset({_I.IN_PROGRESS, _I.ACHIEVED, _I.REVISED, _I.DISCONTINUED}),
        _I.IN_PROGRESS: frozenset({_I.ACHIEVED, _I.REVISED, _I.DISCONTINUED}),
        _I.REVISED: frozenset({_I.IN_PROGRESS, _I.ACHIEVED, _I.DISCONTINUED}),
        _I.ACHIEVED: frozenset({_I.IN_PROGRESS, _I.REVISED}),
        _I.DISCONTINUED: frozenset({_I.IN_PROGRESS}),
    }
)

OPEN_STATUSES: frozenset[ItemStatus] = frozenset({_I.NOT_STARTED, _I.IN_PROGRESS, _I.REVISED})
CLOSED_STATUSES: frozenset[ItemStatus] = frozenset({_I.ACHIEVED, _I.DISCONTINUED})
# What a goal or objective that did not exist in the previous version (or in a new plan) may start as.
INITIAL_STATUSES: frozenset[ItemStatus] = frozenset({_I.NOT_STARTED, _I.IN_PROGRESS})


def can_change_status(current: ItemStatus, target: ItemStatus) -> bool:
    """True when `current -> target` is allowed; keeping the same status is always allowed."""
    return current is target or target in STATUS_TRANSITIONS[current]


def ensure_status_change(current: ItemStatus, target: ItemStatus, *, field: str = "status") -> None:
    """Raise `ValidationFailed(code="invalid_status_transition", field=...)` unless the move is allowed."""
    if not can_change_status(current, target):
        raise ValidationFailed(
            f"A {current.value} item cannot become {target.value}.", code="invalid_status_transition", field=field
        )


# ---------------------------------------------------------------------------------------------- content


class Comparison(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class ScoreTarget:
    """A numeric target on a questionnaire total, e.g. PHQ-9 total < 10 (the "by" date is the objective's
    `target_date`, required with a score target)."""

    instrument: str  # instrument code, e.g. "phq9", "gad7"
    comparison: Comparison
    value: int

    def is_met(self, total: int) -> bool:
        match self.comparison:
            case Comparison.LT:
                return total < self.value
            case Comparison.LE:
                return total <= self.value
            case Comparison.GT:
                return total > self.value
            case Comparison.GE:
                return total >= self.value


@dataclass(frozen=True, slots=True)
class Objective:
    """A measurable step toward a goal: `text` is the target in words (the whole target when there is no
    `score_target`)."""

    id: uuid.UUID
    text: str
    status: ItemStatus = ItemStatus.NOT_STARTED
    target_date: date | None = None
    score_target: ScoreTarget | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    id: uuid.UUID
    text: str
    status: ItemStatus = ItemStatus.NOT_STARTED
    target_date: date | None = None
    objectives: tuple[Objective, ...] = ()


@dataclass(frozen=True, slots=True)
class Intervention:
    text: str
    frequency: str = ""  # e.g. "weekly, 50 minutes"; may be empty


_DOC_KEYS = ("problems", "goals", "interventions", "review_date")
_GOAL_KEYS = ("id", "text", "status", "target_date", "objectives")
_OBJECTIVE_KEYS = ("id", "text", "status", "target_date", "score_target")
_TARGET_KEYS = ("instrument", "comparison", "value")
_INTERVENTION_KEYS = ("text", "frequency")


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """The clinical content of one plan version: what the client sees and what is encrypted."""

    problems: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    review_date: date | None = None

    def goal(self, goal_id: uuid.UUID) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    def objectives(self) -> Iterable[tuple[Goal, Objective]]:
        for goal in self.goals:
            for objective in goal.objectives:
                yield goal, objective

    def to_dict(self) -> j.JsonObject:
        """`{"v": 1, ...}` with JSON types only; `from_dict` reads it back exactly."""
        return {
            "v": PLAN_DOCUMENT_VERSION,
            "problems": list(self.problems),
            "goals": [_goal_to_dict(g) for g in self.goals],
            "interventions": [{"text": i.text, "frequency": i.frequency} for i in self.interventions],
            "review_date": j.dump_day(self.review_date),
        }

    @classmethod
    def from_dict(cls, data: object) -> PlanDocument:
        """Parse and validate. Raises `DocumentError` (`invalid_document`) for a shape this version does not
        write, `ValidationFailed` (`invalid_plan`) for content that breaks the plan rules."""
        d = j.versioned(data, "", _DOC_KEYS, version=PLAN_DOCUMENT_VERSION)
        document = cls(
            problems=tuple(j.string(p, f"problems[{n}]") for n, p in enumerate(j.array(d["problems"], "problems"))),
            goals=tuple(_goal_from_dict(g, f"goals[{n}]") for n, g in enumerate(j.array(d["goals"], "goals"))),
            interventions=tuple(
                _intervention_from_dict(i, f"interventions[{n}]")
                for n, i in enumerate(j.array(d["interventions"], "interventions"))
            ),
            review_date=j.optional_day(d["review_date"], "review_date"),
        )
        validate_document(document)
        return document


def _goal_to_dict(goal: Goal) -> j.JsonObject:
    return {
        "id": j.dump_uuid(goal.id),
        "text": goal.text,
        "status": goal.status.value,
        "target_date": j.dump_day(goal.target_date),
        "objectives": [_objective_to_dict(o) for o in goal.objectives],
    }


def _objective_to_dict(objective: Objective) -> j.JsonObject:
    target = objective.score_target
    return {
        "id": j.dump_uuid(objective.id),
        "text": objective.text,
        "status": objective.status.value,
        "target_date": j.dump_day(objective.target_date),
        "score_target": None
        if target is None
        else {"instrument": target.instrument, "comparison": target.comparison.value, "value": target.value},
    }


def _goal_from_dict(value: object, path: str) -> Goal:
    d = j.obj(value, path, _GOAL_KEYS)
    objectives = j.array(d["objectives"], j.join(path, "objectives"))
    return Goal(
        id=j.uid(d["id"], j.join(path, "id")),
        text=j.string(d["text"], j.join(path, "text")),
        status=j.choice(d["status"], ItemStatus, j.join(path, "status")),
        target_date=j.optional_day(d["target_date"], j.join(path, "target_date")),
        objectives=tuple(
            _objective_from_dict(o, j.join(j.join(path, "objectives"), n)) for n, o in enumerate(objectives)
        ),
    )


def _objective_from_dict(value: object, path: str) -> Objective:
    d = j.obj(value, path, _OBJECTIVE_KEYS)
    target: ScoreTarget | None = None
    if d["score_target"] is not None:
        tpath = j.join(path, "score_target")
        t = j.obj(d["score_target"], tpath, _TARGET_KEYS)
        target = ScoreTarget(
            instrument=j.string(t["instrument"], j.join(tpath, "instrument")),
            comparison=j.choice(t["comparison"], Comparison, j.join(tpath, "comparison")),
            value=j.integer(t["value"], j.join(tpath, "value")),
        )
    return Objective(
        id=j.uid(d["id"], j.join(path, "id")),
        text=j.string(d["text"], j.join(path, "text")),
        status=j.choice(d["status"], ItemStatus, j.join(path, "status")),
        target_date=j.optional_day(d["target_date"], j.join(path, "target_date")),
        score_target=target,
    )


def _intervention_from_dict(value: object, path: str) -> Intervention:
    d = j.obj(value, path, _INTERVENTION_KEYS)
    return Intervention(
        text=j.string(d["text"], j.join(path, "text")),
        frequency=j.string(d["frequency"], j.join(path, "frequency")),
    )


# ---------------------------------------------------------------------------------------------- validation

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(
    value: object, *, field: str, max_len: int, code: str, required: bool = True, single_line: bool = False
) -> None:
    """A string of at most `max_len` characters without control characters other than tab and newlines;
    `required` means not blank. Raises `ValidationFailed(code=code, field=field)`."""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text.", code=code, field=field)
    if required and not value.strip():
        raise ValidationFailed(f"{field} must not be blank.", code=code, field=field)
    if len(value) > max_len:
        raise ValidationFailed(f"{field} is at most {max_len} characters.", code=code, field=field)
    if _CONTROL.search(value) or (single_line and ("\n" in value or "\r" in value)):
        raise ValidationFailed(f"{field} contains control characters.", code=code, field=field)


def _bad(detail: str, field: str) -> ValidationFailed:
    return ValidationFailed(detail, code="invalid_plan", field=field)


def _check_count(items: Sequence[object], limit: int, field: str) -> None:
    if not isinstance(items, tuple):
        raise _bad(f"{field} must be a tuple.", field)
    if len(items) > limit:
        raise _bad(f"At most {limit} {field}.", field)


def _check_date(value: object, field: str, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _bad(f"{field} must be a date.", field)


def _check_status(value: object, field: str) -> None:
    if not isinstance(value, ItemStatus):
        raise _bad(f"{field} must be a status.", field)


def _check_score_target(target: object, field: str) -> None:
    if not isinstance(target, ScoreTarget):
        raise _bad(f"{field} must be a score target.", field)
    if not isinstance(target.instrument, str) or not INSTRUMENT_PATTERN.fullmatch(target.instrument):
        raise _bad("instrument is a lower-case code such as 'phq9'.", f"{field}.instrument")
    if not isinstance(target.comparison, Comparison):
        raise _bad("comparison is one of <, <=, >, >=.", f"{field}.comparison")
    value = target.value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SCORE_VALUE:
        raise _bad(f"value is an integer from 0 to {MAX_SCORE_VALUE}.", f"{field}.value")


def validate_document(document: PlanDocument) -> None:
    """Raise `ValidationFailed(code="invalid_plan", field=<path>)` for content that breaks the rules: bounded
    counts and lengths, goal and objective ids unique across the plan, a target date on every objective that
    has a score target. (Statuses of new items and transitions are `new_plan` / `revise` rules.)"""
    _check_count(document.problems, MAX_PROBLEMS, "problems")
    for n, problem in enumerate(document.problems):
        check_text(problem, field=f"problems[{n}]", max_len=MAX_TEXT, code="invalid_plan")
    _check_count(document.goals, MAX_GOALS, "goals")
    seen: set[uuid.UUID] = set()
    for g, goal in enumerate(document.goals):
        path = f"goals[{g}]"
        if not isinstance(goal, Goal):
            raise _bad(f"{path} must be a goal.", path)
        if not isinstance(goal.id, uuid.UUID) or goal.id in seen:
            raise _bad("Goal and objective ids are uuids, each used once in a plan.", f"{path}.id")
        seen.add(goal.id)
        check_text(goal.text, field=f"{path}.text", max_len=MAX_TEXT, code="invalid_plan")
        _check_status(goal.status, f"{path}.status")
        _check_date(goal.target_date, f"{path}.target_date")
        _check_count(goal.objectives, MAX_OBJECTIVES_PER_GOAL, f"{path}.objectives")
        for o, objective in enumerate(goal.objectives):
            opath = f"{path}.objectives[{o}]"
            if not isinstance(objective, Objective):
                raise _bad(f"{opath} must be an objective.", opath)
            if not isinstance(objective.id, uuid.UUID) or objective.id in seen:
                raise _bad("Goal and objective ids are uuids, each used once in a plan.", f"{opath}.id")
            seen.add(objective.id)
            check_text(objective.text, field=f"{opath}.text", max_len=MAX_TEXT, code="invalid_plan")
            _check_status(objective.status, f"{opath}.status")
            _check_date(objective.target_date, f"{opath}.target_date")
            if objective.score_target is not None:
                _check_score_target(objective.score_target, f"{opath}.score_target")
                if objective.target_date is None:
                    raise _bad("An objective with a score target needs a target date.", f"{opath}.target_date")
    _check_count(document.interventions, MAX_INTERVENTIONS, "interventions")
    for n, intervention in enumerate(document.interventions):
        path = f"interventions[{n}]"
        if not isinstance(intervention, Intervention):
            raise _bad(f"{path} must be an intervention.", path)
        check_text(intervention.text, field=f"{path}.text", max_len=MAX_TEXT, code="invalid_plan")
        check_text(
            intervention.frequency,
            field=f"{path}.frequency",
            max_len=MAX_FREQUENCY,
            code="invalid_plan",
            required=False,
            single_line=True,
        )
    _check_date(document.review_date, "review_date")


def _statuses(document: PlanDocument) -> dict[uuid.UUID, tuple[str, ItemStatus]]:
    """id -> (field path of its status, status) for every goal and objective."""
    found: dict[uuid.UUID, tuple[str, ItemStatus]] = {}
    for g, goal in enumerate(document.goals):
        found[goal.id] = (f"goals[{g}].status", goal.status)
        for o, objective in enumerate(goal.objectives):
            found[objective.id] = (f"goals[{g}].objectives[{o}].status", objective.status)
    return found


def _check_new_items(document: PlanDocument, previous: PlanDocument | None) -> None:
    before = {} if previous is None else _statuses(previous)
    for item_id, (field, status) in _statuses(document).items():
        if item_id not in before and status not in INITIAL_STATUSES:
            raise ValidationFailed(
                f"A new goal or objective starts as not_started or in_progress, not {status.value}.",
                code="invalid_status_transition",
                field=field,
            )


def check_revision(previous: PlanDocument, document: PlanDocument) -> None:
    """The rules between two consecutive versions: every status change is allowed, new items start open,
    and an item that was still open in `previous` is not dropped (close it first)."""
    before = _statuses(previous)
    after = _statuses(document)
    for item_id, (field, status) in after.items():
        if item_id in before:
            ensure_status_change(before[item_id][1], status, field=field)
    _check_new_items(document, previous)
    for item_id, (field, status) in before.items():
        if item_id not in after and status in OPEN_STATUSES:
            raise ValidationFailed(
                f"{field.removesuffix('.status')} of the previous version is {status.value} and cannot be "
                "removed; mark it achieved or discontinued first.",
                code="invalid_plan",
                field="goals",
            )


# ---------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class TherapyPlan:
    """One version of the plan of a client-therapist relationship. Identity and metadata are the service's
    columns; `document` is the encrypted content."""

    id: uuid.UUID
    practice_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    version: int
    document: PlanDocument
    created_at: datetime  # when version 1 was written
    updated_at: datetime  # when this version was written
    updated_by: uuid.UUID  # who wrote this version

    @property
    def goals(self) -> tuple[Goal, ...]:
        return self.document.goals


def new_plan(
    *,
    id: uuid.UUID,
    practice_id: uuid.UUID,
    therapist_id: uuid.UUID,
    client_id: uuid.UUID,
    document: PlanDocument,
    created_at: datetime,
) -> TherapyPlan:
    """Version 1, written by the therapist. Validates the content; every item starts open."""
    if therapist_id == client_id:
        raise ValidationFailed("A therapist cannot be their own client.", code="invalid_participants")
    validate_document(document)
    _check_new_items(document, None)
    at = ensure_utc(created_at, field="created_at")
    return TherapyPlan(
        id=id,
        practice_id=practice_id,
        therapist_id=therapist_id,
        client_id=client_id,
        version=1,
        document=document,
        created_at=at,
        updated_at=at,
        updated_by=therapist_id,
    )


def revise(
    plan: TherapyPlan, document: PlanDocument, *, expected_version: int, by: uuid.UUID, at: datetime
) -> TherapyPlan:
    """The next version with `document` as its whole content (replace semantics, like PUT + If-Match).

    Raises `StaleVersion` when `expected_version` is not the current version, `ValidationFailed`
    (`invalid_plan`, `invalid_status_transition`) for bad content. Identical content is not a change: the
    same plan (same version) is returned. `plan` itself is never modified.
    """
    if expected_version != plan.version:
        raise StaleVersion(f"The plan is at version {plan.version}; reload it and apply your change again.")
    validate_document(document)
    check_revision(plan.document, document)
    if document == plan.document:
        return plan
    return replace(
        plan,
        version=plan.version + 1,
        document=document,
        updated_at=ensure_utc(at, field="at"),
        updated_by=by,
    )


# ---------------------------------------------------------------------------------------------- scores


def status_after_score(objective: Objective, instrument: str, total: int) -> ItemStatus:
    """The status a new `total` on `instrument` gives an objective: a met target makes an open objective
    `achieved`; an unmet one starts a `not_started` objective and reopens an `achieved` one. Discontinued
    objectives and objectives without a target on this instrument keep their status."""
    target = objective.score_target
    if target is None or target.instrument != instrument or objective.status is ItemStatus.DISCONTINUED:
        return objective.status
    if target.is_met(total):
        return ItemStatus.ACHIEVED
    if objective.status in (ItemStatus.NOT_STARTED, ItemStatus.ACHIEVED):
        return ItemStatus.IN_PROGRESS
    return objective.status


def apply_score(document: PlanDocument, instrument: str, total: int) -> PlanDocument:
    """`document` with every objective's status updated by `status_after_score`; the same object when nothing
    changes. Feed the result to `revise` to store it as a new version."""
    changed = False
    goals: list[Goal] = []
    for goal in document.goals:
        objectives: list[Objective] = []
        for objective in goal.objectives:
            status = status_after_score(objective, instrument, total)
            if status is not objective.status:
                changed = True
                objective = replace(objective, status=status)
            objectives.append(objective)
        goals.append(replace(goal, objectives=tuple(objectives)))
    return replace(document, goals=tuple(goals)) if changed else document


# ---------------------------------------------------------------------------------------------- acknowledgement


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """The client's dated acknowledgement of one plan version."""

    plan_id: uuid.UUID
    version: int
    client_id: uuid.UUID
    acknowledged_at: datetime


def acknowledge(plan: TherapyPlan, *, client_id: uuid.UUID, version: int, at: datetime) -> Acknowledgement:
    """The plan's client acknowledges the version they read. Only the current version can be acknowledged
    (`StaleVersion` otherwise: the plan changed since they read it); anyone else gets `Forbidden`."""
    if client_id != plan.client_id:
        raise Forbidden("Only the plan's client can acknowledge it.", code="not_plan_client")
    if version != plan.version:
        raise StaleVersion(f"The plan is at version {plan.version}; read it again before acknowledging.")
    return Acknowledgement(
        plan_id=plan.id, version=plan.version, client_id=client_id, acknowledged_at=ensure_utc(at, field="at")
    )


def acknowledgement_of(plan: TherapyPlan, acknowledgements: Iterable[Acknowledgement]) -> Acknowledgement | None:
    """The earliest acknowledgement of the plan's current version, if any."""
    current = [a for a in acknowledgements if a.plan_id == plan.id and a.version == plan.version]
    return min(current, key=lambda a: a.acknowledged_at, default=None)


# ---------------------------------------------------------------------------------------------- progress


class ProgressRating(StrEnum):
    PROGRESSING = "progressing"
    MAINTAINED = "maintained"
    REGRESSED = "regressed"
    NOT_ADDRESSED = "not_addressed"


@dataclass(frozen=True, slots=True)
class GoalRating:
    """A note's rating of one goal of the client's plan."""

    goal_id: uuid.UUID
    rating: ProgressRating
    comment: str = ""


def validate_ratings(ratings: Sequence[GoalRating], *, code: str, field: str = "ratings") -> None:
    """Structure only: at most `MAX_GOALS` ratings, one per goal, bounded comments. Raises
    `ValidationFailed(code=code, field=...)`."""
    if not isinstance(ratings, tuple):
        raise ValidationFailed(f"{field} must be a tuple.", code=code, field=field)
    if len(ratings) > MAX_GOALS:
        raise ValidationFailed(f"At most {MAX_GOALS} goal ratings.", code=code, field=field)
    seen: set[uuid.UUID] = set()
    for n, rating in enumerate(ratings):
        path = f"{field}[{n}]"
        if not isinstance(rating, GoalRating):
            raise ValidationFailed(f"{path} must be a goal rating.", code=code, field=path)
        if not isinstance(rating.goal_id, uuid.UUID) or rating.goal_id in seen:
            raise ValidationFailed("Rate each goal at most once.", code=code, field=f"{path}.goal_id")
        seen.add(rating.goal_id)
        if not isinstance(rating.rating, ProgressRating):
            raise ValidationFailed(f"{path}.rating must be a progress rating.", code=code, field=f"{path}.rating")
        check_text(rating.comment, field=f"{path}.comment", max_len=MAX_COMMENT, code=code, required=False)


_PROGRESS_KEYS = ("plan_id", "goal_id", "note_id", "rating", "comment", "on", "recorded_at")


@dataclass(frozen=True, slots=True)
class ProgressEntry:
    """One goal's progress as rated in one signed note. `on` is the session's date; `recorded_at` the
    signing instant (orders entries of the same day)."""

    plan_id: uuid.UUID
    goal_id: uuid.UUID
    note_id: uuid.UUID
    rating: ProgressRating
    comment: str
    on: date
    recorded_at: datetime

    def to_dict(self) -> j.JsonObject:
        return {
            "v": PROGRESS_DOCUMENT_VERSION,
            "plan_id": j.dump_uuid(self.plan_id),
            "goal_id": j.dump_uuid(self.goal_id),
            "note_id": j.dump_uuid(self.note_id),
            "rating": self.rating.value,
            "comment": self.comment,
            "on": self.on.isoformat(),
            "recorded_at": j.dump_instant(self.recorded_at),
        }

    @classmethod
    def from_dict(cls, data: object) -> ProgressEntry:
        d = j.versioned(data, "", _PROGRESS_KEYS, version=PROGRESS_DOCUMENT_VERSION)
        entry = cls(
            plan_id=j.uid(d["plan_id"], "plan_id"),
            goal_id=j.uid(d["goal_id"], "goal_id"),
            note_id=j.uid(d["note_id"], "note_id"),
            rating=j.choice(d["rating"], ProgressRating, "rating"),
            comment=j.string(d["comment"], "comment"),
            on=j.day(d["on"], "on"),
            recorded_at=j.instant(d["recorded_at"], "recorded_at"),
        )
        check_text(entry.comment, field="comment", max_len=MAX_COMMENT, code="invalid_progress", required=False)
        return entry


def record_progress(
    plan: TherapyPlan, ratings: Sequence[GoalRating], *, note_id: uuid.UUID, on: date, at: datetime
) -> tuple[ProgressEntry, ...]:
    """The progress entries a signed note adds to the plan: one per rated goal, in the note's order. Every
    rated goal must be a goal of the plan's current version (`ValidationFailed(code="unknown_goal")`)."""
    validate_ratings(ratings, code="invalid_progress")
    recorded_at = ensure_utc(at, field="at")
    for n, rating in enumerate(ratings):
        if plan.document.goal(rating.goal_id) is None:
            raise ValidationFailed(
                "The note rates a goal that is not in the client's plan.",
                code="unknown_goal",
                field=f"ratings[{n}].goal_id",
            )
    return tuple(
        ProgressEntry(
            plan_id=plan.id,
            goal_id=r.goal_id,
            note_id=note_id,
            rating=r.rating,
            comment=r.comment,
            on=on,
            recorded_at=recorded_at,
        )
        for r in ratings
    )


def _history_key(entry: ProgressEntry) -> tuple[date, datetime, str]:
    return (entry.on, entry.recorded_at, str(entry.note_id))


def progress_history(entries: Iterable[ProgressEntry], goal_id: uuid.UUID) -> tuple[ProgressEntry, ...]:
    """One goal's entries, oldest first (by session date, then recording instant). A note counts once: of
    several entries for the same note and goal, the last recorded is kept."""
    latest: dict[uuid.UUID, ProgressEntry] = {}
    for entry in entries:
        if entry.goal_id != goal_id:
            continue
        kept = latest.get(entry.note_id)
        if kept is None or entry.recorded_at >= kept.recorded_at:
            latest[entry.note_id] = entry
    return tuple(sorted(latest.values(), key=_history_key))


def history_by_goal(entries: Iterable[ProgressEntry]) -> dict[uuid.UUID, tuple[ProgressEntry, ...]]:
    """`progress_history` for every goal that has entries."""
    materialised = tuple(entries)
    return {goal_id: progress_history(materialised, goal_id) for goal_id in {e.goal_id for e in materialised}}


def for_client(entry: ProgressEntry) -> ProgressEntry:
    """What the client sees of an entry: the rating and date, not the comment (it is part of the note, and the
    client reads no note)."""
    return replace(entry, comment="")
