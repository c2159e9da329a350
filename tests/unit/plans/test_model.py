from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from domain.plans.model import (
    MAX_GOALS,
    MAX_INTERVENTIONS,
    MAX_OBJECTIVES_PER_GOAL,
    MAX_PROBLEMS,
    MAX_SCORE_VALUE,
    MAX_TEXT,
    STATUS_TRANSITIONS,
    Acknowledgement,
    Comparison,
    Goal,
    GoalRating,
    Intervention,
    ItemStatus,
    Objective,
    PlanDocument,
    ProgressEntry,
    ProgressRating,
    ScoreTarget,
    acknowledge,
    acknowledgement_of,
    apply_score,
    can_change_status,
    ensure_status_change,
    for_client,
    history_by_goal,
    new_plan,
    progress_history,
    record_progress,
    revise,
    status_after_score,
    validate_document,
)
from domain.shared.errors import Forbidden, StaleVersion, ValidationFailed
from tests.unit.plans.factories import (
    CLIENT,
    GOAL_MOOD,
    GOAL_SLEEP,
    OBJ_ACTIVITY,
    OBJ_PHQ,
    OBJ_SLEEP,
    PLAN_ID,
    PRACTICE,
    THERAPIST,
    document,
    phq_objective,
    plan,
    utc,
)

St = ItemStatus

LEGAL = {
    (St.NOT_STARTED, St.IN_PROGRESS),
    (St.NOT_STARTED, St.ACHIEVED),
    (St.NOT_STARTED, St.REVISED),
    (St.NOT_STARTED, St.DISCONTINUED),
    (St.IN_PROGRESS, St.ACHIEVED),
    (St.IN_PROGRESS, St.REVISED),
    (St.IN_PROGRESS, St.DISCONTINUED),
    (St.REVISED, St.IN_PROGRESS),
    (St.REVISED, St.ACHIEVED),
    (St.REVISED, St.DISCONTINUED),
    (St.ACHIEVED, St.IN_PROGRESS),
    (St.ACHIEVED, St.REVISED),
    (St.DISCONTINUED, St.IN_PROGRESS),
}
MOVES = [(a, b) for a, b in itertools.product(St, St) if a is not b]
ILLEGAL = [pair for pair in MOVES if pair not in LEGAL]


def rewrite_goal(doc: PlanDocument, goal_id: uuid.UUID, **changes: object) -> PlanDocument:
    return replace(doc, goals=tuple(replace(g, **changes) if g.id == goal_id else g for g in doc.goals))  # type: ignore[arg-type]


def rewrite_objective(doc: PlanDocument, objective_id: uuid.UUID, **changes: object) -> PlanDocument:
    goals = tuple(
        replace(
            g,
            objectives=tuple(
                replace(o, **changes) if o.id == objective_id else o  # type: ignore[arg-type]
                for o in g.objectives
            ),
        )
        for g in doc.goals
    )
    return replace(doc, goals=goals)


def expect_invalid(doc: PlanDocument, field: str, code: str = "invalid_plan") -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_document(doc)
    assert err.value.code == code
    assert err.value.field == field


# ---------------------------------------------------------------------------------------------- statuses


def test_the_transition_table_is_exactly_the_documented_moves() -> None:
    table = {(a, b) for a, nxt in STATUS_TRANSITIONS.items() for b in nxt}
    assert table == LEGAL
    assert set(STATUS_TRANSITIONS) == set(St)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_status_changes_are_allowed(current: St, target: St) -> None:
    assert can_change_status(current, target)
    ensure_status_change(current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_illegal_status_changes_name_the_field(current: St, target: St) -> None:
    assert not can_change_status(current, target)
    with pytest.raises(ValidationFailed) as err:
        ensure_status_change(current, target, field="goals[0].status")
    assert err.value.code == "invalid_status_transition"
    assert err.value.field == "goals[0].status"


@pytest.mark.parametrize("status", list(St))
def test_keeping_a_status_is_not_a_transition(status: St) -> None:
    assert can_change_status(status, status)


def test_nothing_goes_back_to_not_started() -> None:
    assert all(St.NOT_STARTED not in targets for targets in STATUS_TRANSITIONS.values())


# ---------------------------------------------------------------------------------------------- validation


def test_a_valid_plan_starts_at_version_one_written_by_its_therapist() -> None:
    p = plan()
    assert p.version == 1
    assert p.updated_by == THERAPIST
    assert p.created_at == p.updated_at == utc(2026, 5, 4, 15)
    assert [g.id for g in p.goals] == [GOAL_MOOD, GOAL_SLEEP]
    assert (p.practice_id, p.therapist_id, p.client_id) == (PRACTICE, THERAPIST, CLIENT)


def test_an_empty_plan_is_allowed() -> None:
    assert plan(PlanDocument()).document.goals == ()


def test_a_therapist_cannot_be_their_own_client() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_plan(
            id=PLAN_ID,
            practice_id=PRACTICE,
            therapist_id=THERAPIST,
            client_id=THERAPIST,
            document=document(),
            created_at=utc(2026, 5, 4),
        )
    assert err.value.code == "invalid_participants"


def test_a_naive_creation_time_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_plan(
            id=PLAN_ID,
            practice_id=PRACTICE,
            therapist_id=THERAPIST,
            client_id=CLIENT,
            document=document(),
            created_at=datetime(2026, 5, 4, 15),
        )
    assert err.value.code == "invalid_datetime"


@pytest.mark.parametrize("status", [St.ACHIEVED, St.REVISED, St.DISCONTINUED])
def test_a_new_plan_starts_its_goals_open(status: St) -> None:
    with pytest.raises(ValidationFailed) as err:
        plan(document(sleep_status=status))
    assert err.value.code == "invalid_status_transition"
    assert err.value.field == "goals[1].status"


def test_a_new_plan_starts_its_objectives_open() -> None:
    with pytest.raises(ValidationFailed) as err:
        plan(document(phq_status=St.ACHIEVED))
    assert err.value.field == "goals[0].objectives[0].status"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (replace(document(), problems=("",)), "problems[0]"),
        (replace(document(), problems=("   \n",)), "problems[0]"),
        (replace(document(), problems=("x" * (MAX_TEXT + 1),)), "problems[0]"),
        (replace(document(), problems=("ok", "bad\x00byte")), "problems[1]"),
        (replace(document(), problems=("x",) * (MAX_PROBLEMS + 1)), "problems"),
        (rewrite_goal(document(), GOAL_SLEEP, text=" "), "goals[1].text"),
        (rewrite_goal(document(), GOAL_SLEEP, id=GOAL_MOOD), "goals[1].id"),
        (rewrite_goal(document(), GOAL_SLEEP, id=OBJ_PHQ), "goals[1].id"),
        (rewrite_goal(document(), GOAL_SLEEP, target_date=utc(2026, 1, 1)), "goals[1].target_date"),
        (rewrite_goal(document(), GOAL_SLEEP, status="achieved"), "goals[1].status"),
        (
            rewrite_goal(
                document(),
                GOAL_SLEEP,
                objectives=tuple(Objective(uuid.uuid4(), "o") for _ in range(MAX_OBJECTIVES_PER_GOAL + 1)),
            ),
            "goals[1].objectives",
        ),
        (rewrite_objective(document(), OBJ_SLEEP, id=OBJ_ACTIVITY), "goals[1].objectives[0].id"),
        (rewrite_objective(document(), OBJ_SLEEP, text="y" * (MAX_TEXT + 1)), "goals[1].objectives[0].text"),
        (rewrite_objective(document(), OBJ_PHQ, target_date=None), "goals[0].objectives[0].target_date"),
        (
            rewrite_objective(document(), OBJ_PHQ, score_target=ScoreTarget("PHQ-9", Comparison.LT, 10)),
            "goals[0].objectives[0].score_target.instrument",
        ),
        (
            rewrite_objective(document(), OBJ_PHQ, score_target=ScoreTarget("phq9", Comparison.LT, -1)),
            "goals[0].objectives[0].score_target.value",
        ),
        (
            rewrite_objective(
                document(), OBJ_PHQ, score_target=ScoreTarget("phq9", Comparison.LT, MAX_SCORE_VALUE + 1)
            ),
            "goals[0].objectives[0].score_target.value",
        ),
        (
            rewrite_objective(document(), OBJ_PHQ, score_target=ScoreTarget("phq9", Comparison.LT, True)),
            "goals[0].objectives[0].score_target.value",
        ),
        (
            rewrite_objective(document(), OBJ_PHQ, score_target=ScoreTarget("phq9", "=", 10)),  # type: ignore[arg-type]
            "goals[0].objectives[0].score_target.comparison",
        ),
        (
            replace(
                document(),
                goals=tuple(Goal(uuid.uuid4(), f"goal {n}") for n in range(MAX_GOALS + 1)),
            ),
            "goals",
        ),
        (replace(document(), interventions=(Intervention("", "weekly"),)), "interventions[0].text"),
        (replace(document(), interventions=(Intervention("CBT", "x" * 201),)), "interventions[0].frequency"),
        (replace(document(), interventions=(Intervention("CBT", "weekly\nor more"),)), "interventions[0].frequency"),
        (replace(document(), interventions=(Intervention("CBT"),) * (MAX_INTERVENTIONS + 1)), "interventions"),
        (replace(document(), review_date="2026-08-01"), "review_date"),  # type: ignore[arg-type]
        (replace(document(), problems=["a list"]), "problems"),  # type: ignore[arg-type]
    ],
)
def test_invalid_content_names_its_field(doc: PlanDocument, field: str) -> None:
    expect_invalid(doc, field)


def test_limits_are_inclusive() -> None:
    doc = replace(
        document(),
        problems=("p" * MAX_TEXT,) * MAX_PROBLEMS,
        interventions=(Intervention("i", "f" * 200),) * MAX_INTERVENTIONS,
    )
    validate_document(doc)
    many_goals = replace(doc, goals=tuple(Goal(uuid.uuid4(), f"g{n}") for n in range(MAX_GOALS)))
    validate_document(many_goals)
    assert len(many_goals.goals) == MAX_GOALS


def test_a_free_text_objective_needs_no_date_nor_score() -> None:
    doc = document()
    activity = doc.goals[0].objectives[1]
    assert activity.score_target is None
    assert activity.target_date is None
    validate_document(doc)


# ---------------------------------------------------------------------------------------------- score targets


@pytest.mark.parametrize(
    ("comparison", "total", "met"),
    [
        (Comparison.LT, 9, True),
        (Comparison.LT, 10, False),
        (Comparison.LE, 10, True),
        (Comparison.LE, 11, False),
        (Comparison.GT, 11, True),
        (Comparison.GT, 10, False),
        (Comparison.GE, 10, True),
        (Comparison.GE, 9, False),
    ],
)
def test_score_target_comparisons(comparison: Comparison, total: int, met: bool) -> None:
    assert ScoreTarget("phq9", comparison, 10).is_met(total) is met


@pytest.mark.parametrize(
    ("status", "total", "expected"),
    [
        (St.NOT_STARTED, 8, St.ACHIEVED),
        (St.IN_PROGRESS, 8, St.ACHIEVED),
        (St.REVISED, 8, St.ACHIEVED),
        (St.ACHIEVED, 8, St.ACHIEVED),
        (St.NOT_STARTED, 14, St.IN_PROGRESS),
        (St.IN_PROGRESS, 14, St.IN_PROGRESS),
        (St.REVISED, 14, St.REVISED),
        (St.ACHIEVED, 14, St.IN_PROGRESS),
        (St.DISCONTINUED, 8, St.DISCONTINUED),
        (St.DISCONTINUED, 14, St.DISCONTINUED),
    ],
)
def test_status_after_score(status: St, total: int, expected: St) -> None:
    assert status_after_score(phq_objective(status), "phq9", total) is expected


def test_a_score_on_another_instrument_changes_nothing() -> None:
    assert status_after_score(phq_objective(St.IN_PROGRESS), "gad7", 0) is St.IN_PROGRESS
    doc = document()
    assert apply_score(doc, "gad7", 0) is doc


def test_apply_score_updates_only_matching_objectives_and_revise_accepts_it() -> None:
    p = plan()
    updated = apply_score(p.document, "phq9", 7)
    assert updated is not p.document
    statuses = {o.id: o.status for _, o in updated.objectives()}
    assert statuses == {OBJ_PHQ: St.ACHIEVED, OBJ_ACTIVITY: St.NOT_STARTED, OBJ_SLEEP: St.NOT_STARTED}
    v2 = revise(p, updated, expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert v2.version == 2
    # A later, worse score reopens it, which is also a legal revision.
    v3 = revise(v2, apply_score(v2.document, "phq9", 16), expected_version=2, by=THERAPIST, at=utc(2026, 7, 1))
    assert v3.goals[0].objectives[0].status is St.IN_PROGRESS


def test_apply_score_with_no_status_change_returns_the_same_document() -> None:
    doc = document(phq_status=St.IN_PROGRESS)
    assert apply_score(doc, "phq9", 15) is doc


# ---------------------------------------------------------------------------------------------- revisions


def test_revise_returns_the_next_version_and_leaves_the_previous_intact() -> None:
    v1 = plan()
    before = v1.document.to_dict()
    new_doc = rewrite_goal(v1.document, GOAL_MOOD, text="Lift mood", status=St.REVISED)
    v2 = revise(v1, new_doc, expected_version=1, by=THERAPIST, at=utc(2026, 6, 1, 9))
    assert (v2.version, v2.updated_at, v2.updated_by) == (2, utc(2026, 6, 1, 9), THERAPIST)
    assert v2.created_at == v1.created_at
    assert (v2.id, v2.client_id, v2.therapist_id, v2.practice_id) == (v1.id, CLIENT, THERAPIST, PRACTICE)
    assert v2.goals[0].text == "Lift mood"
    assert v1.version == 1
    assert v1.goals[0].text == "Reduce depressive symptoms"
    assert v1.goals[0].status is St.IN_PROGRESS
    assert v1.document.to_dict() == before


def test_three_versions_each_keep_their_own_content() -> None:
    v1 = plan()
    v2 = revise(
        v1,
        rewrite_goal(v1.document, GOAL_SLEEP, status=St.IN_PROGRESS),
        expected_version=1,
        by=THERAPIST,
        at=utc(2026, 6, 1),
    )
    v3 = revise(
        v2,
        rewrite_goal(v2.document, GOAL_SLEEP, status=St.ACHIEVED),
        expected_version=2,
        by=THERAPIST,
        at=utc(2026, 7, 1),
    )
    assert [v.goals[1].status for v in (v1, v2, v3)] == [St.NOT_STARTED, St.IN_PROGRESS, St.ACHIEVED]
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]


def test_revising_an_outdated_copy_is_stale() -> None:
    v1 = plan()
    v2 = revise(
        v1, replace(v1.document, review_date=date(2026, 9, 1)), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1)
    )
    with pytest.raises(StaleVersion) as err:
        revise(
            v2,
            replace(v2.document, review_date=date(2026, 10, 1)),
            expected_version=1,
            by=THERAPIST,
            at=utc(2026, 6, 2),
        )
    assert err.value.code == "precondition_failed"


def test_identical_content_is_not_a_new_version() -> None:
    v1 = plan()
    same = revise(v1, document(), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert same is v1
    assert same.version == 1


def test_an_illegal_status_move_in_a_revision_names_the_item() -> None:
    v1 = plan()  # goal "mood" is in_progress
    with pytest.raises(ValidationFailed) as err:
        revise(
            v1,
            rewrite_goal(v1.document, GOAL_MOOD, status=St.NOT_STARTED),
            expected_version=1,
            by=THERAPIST,
            at=utc(2026, 6, 1),
        )
    assert err.value.code == "invalid_status_transition"
    assert err.value.field == "goals[0].status"


def test_an_illegal_objective_move_in_a_revision_names_the_objective() -> None:
    v1 = plan()
    v2 = revise(
        v1,
        rewrite_objective(v1.document, OBJ_SLEEP, status=St.ACHIEVED),
        expected_version=1,
        by=THERAPIST,
        at=utc(2026, 6, 1),
    )
    with pytest.raises(ValidationFailed) as err:
        revise(
            v2,
            rewrite_objective(v2.document, OBJ_SLEEP, status=St.DISCONTINUED),
            expected_version=2,
            by=THERAPIST,
            at=utc(2026, 6, 2),
        )
    assert err.value.code == "invalid_status_transition"
    assert err.value.field == "goals[1].objectives[0].status"


def test_a_new_goal_in_a_revision_starts_open() -> None:
    v1 = plan()
    extra = Goal(uuid.uuid4(), "Reconnect with friends", status=St.ACHIEVED)
    with pytest.raises(ValidationFailed) as err:
        revise(v1, replace(v1.document, goals=(*v1.goals, extra)), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert err.value.field == "goals[2].status"
    ok = revise(
        v1,
        replace(v1.document, goals=(*v1.goals, replace(extra, status=St.NOT_STARTED))),
        expected_version=1,
        by=THERAPIST,
        at=utc(2026, 6, 1),
    )
    assert len(ok.goals) == 3


def test_an_open_goal_cannot_be_dropped() -> None:
    v1 = plan()
    with pytest.raises(ValidationFailed) as err:
        revise(v1, replace(v1.document, goals=v1.goals[:1]), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert err.value.code == "invalid_plan"
    assert err.value.field == "goals"
    assert "goals[1]" in err.value.detail


def test_an_open_objective_cannot_be_dropped() -> None:
    v1 = plan()
    with pytest.raises(ValidationFailed) as err:
        revise(
            v1,
            rewrite_goal(v1.document, GOAL_MOOD, objectives=v1.goals[0].objectives[:1]),
            expected_version=1,
            by=THERAPIST,
            at=utc(2026, 6, 1),
        )
    assert err.value.code == "invalid_plan"
    assert "goals[0].objectives[1]" in err.value.detail


@pytest.mark.parametrize("closing", [St.ACHIEVED, St.DISCONTINUED])
def test_a_closed_goal_can_be_dropped_later_and_earlier_versions_keep_it(closing: St) -> None:
    v1 = plan()
    closed = rewrite_goal(v1.document, GOAL_SLEEP, status=closing)
    closed = rewrite_objective(closed, OBJ_SLEEP, status=St.DISCONTINUED)
    v2 = revise(v1, closed, expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    v3 = revise(v2, replace(v2.document, goals=v2.goals[:1]), expected_version=2, by=THERAPIST, at=utc(2026, 7, 1))
    assert [g.id for g in v3.goals] == [GOAL_MOOD]
    assert [g.id for g in v2.goals] == [GOAL_MOOD, GOAL_SLEEP]
    assert v2.goals[1].status is closing


def test_revise_validates_content() -> None:
    v1 = plan()
    with pytest.raises(ValidationFailed) as err:
        revise(v1, replace(v1.document, problems=("",)), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert err.value.field == "problems[0]"


# ---------------------------------------------------------------------------------------------- acknowledgement


def test_the_client_acknowledges_the_current_version() -> None:
    p = plan()
    ack = acknowledge(p, client_id=CLIENT, version=1, at=utc(2026, 5, 5, 8))
    assert ack == Acknowledgement(plan_id=PLAN_ID, version=1, client_id=CLIENT, acknowledged_at=utc(2026, 5, 5, 8))


def test_acknowledging_an_outdated_version_is_stale() -> None:
    v1 = plan()
    v2 = revise(v1, replace(v1.document, review_date=None), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    with pytest.raises(StaleVersion):
        acknowledge(v2, client_id=CLIENT, version=1, at=utc(2026, 6, 2))


def test_only_the_plans_client_acknowledges() -> None:
    with pytest.raises(Forbidden) as err:
        acknowledge(plan(), client_id=THERAPIST, version=1, at=utc(2026, 5, 5))
    assert err.value.code == "not_plan_client"


def test_acknowledgement_of_follows_the_current_version() -> None:
    v1 = plan()
    first = acknowledge(v1, client_id=CLIENT, version=1, at=utc(2026, 5, 5))
    again = acknowledge(v1, client_id=CLIENT, version=1, at=utc(2026, 5, 6))
    assert acknowledgement_of(v1, [again, first]) == first
    v2 = revise(v1, replace(v1.document, review_date=None), expected_version=1, by=THERAPIST, at=utc(2026, 6, 1))
    assert acknowledgement_of(v2, [first, again]) is None
    on_v2 = acknowledge(v2, client_id=CLIENT, version=2, at=utc(2026, 6, 3))
    assert acknowledgement_of(v2, [first, on_v2]) == on_v2
    other_plan = replace(on_v2, plan_id=uuid.uuid4())
    assert acknowledgement_of(v2, [other_plan]) is None


# ---------------------------------------------------------------------------------------------- progress

NOTE_1 = uuid.UUID("00000000-0000-0000-0000-000000000301")
NOTE_2 = uuid.UUID("00000000-0000-0000-0000-000000000302")
NOTE_3 = uuid.UUID("00000000-0000-0000-0000-000000000303")


def test_record_progress_makes_one_entry_per_rated_goal() -> None:
    p = plan()
    entries = record_progress(
        p,
        (
            GoalRating(GOAL_MOOD, ProgressRating.PROGRESSING, "More energy"),
            GoalRating(GOAL_SLEEP, ProgressRating.NOT_ADDRESSED),
        ),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 16),
    )
    assert entries == (
        ProgressEntry(
            PLAN_ID,
            GOAL_MOOD,
            NOTE_1,
            ProgressRating.PROGRESSING,
            "More energy",
            date(2026, 5, 11),
            utc(2026, 5, 11, 16),
        ),
        ProgressEntry(
            PLAN_ID, GOAL_SLEEP, NOTE_1, ProgressRating.NOT_ADDRESSED, "", date(2026, 5, 11), utc(2026, 5, 11, 16)
        ),
    )


def test_progress_on_an_unknown_goal_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        record_progress(
            plan(),
            (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED), GoalRating(uuid.uuid4(), ProgressRating.MAINTAINED)),
            note_id=NOTE_1,
            on=date(2026, 5, 11),
            at=utc(2026, 5, 11, 16),
        )
    assert err.value.code == "unknown_goal"
    assert err.value.field == "ratings[1].goal_id"


def test_a_goal_is_rated_once_per_note() -> None:
    with pytest.raises(ValidationFailed) as err:
        record_progress(
            plan(),
            (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED), GoalRating(GOAL_MOOD, ProgressRating.REGRESSED)),
            note_id=NOTE_1,
            on=date(2026, 5, 11),
            at=utc(2026, 5, 11, 16),
        )
    assert err.value.code == "invalid_progress"
    assert err.value.field == "ratings[1].goal_id"


def test_a_progress_comment_is_bounded() -> None:
    with pytest.raises(ValidationFailed) as err:
        record_progress(
            plan(),
            (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED, "c" * 2001),),
            note_id=NOTE_1,
            on=date(2026, 5, 11),
            at=utc(2026, 5, 11, 16),
        )
    assert err.value.field == "ratings[0].comment"


def test_progress_history_from_several_notes_is_per_goal_and_chronological() -> None:
    p = plan()
    third = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.PROGRESSING),),
        note_id=NOTE_3,
        on=date(2026, 5, 25),
        at=utc(2026, 5, 25, 16),
    )
    first = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.REGRESSED), GoalRating(GOAL_SLEEP, ProgressRating.MAINTAINED)),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 14, 9),  # signed three days later
    )
    second = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED),),
        note_id=NOTE_2,
        on=date(2026, 5, 18),
        at=utc(2026, 5, 18, 16),
    )
    entries = [*third, *first, *second]
    mood = progress_history(entries, GOAL_MOOD)
    assert [e.rating for e in mood] == [ProgressRating.REGRESSED, ProgressRating.MAINTAINED, ProgressRating.PROGRESSING]
    assert [e.note_id for e in mood] == [NOTE_1, NOTE_2, NOTE_3]
    sleep = progress_history(entries, GOAL_SLEEP)
    assert [(e.note_id, e.rating) for e in sleep] == [(NOTE_1, ProgressRating.MAINTAINED)]
    assert history_by_goal(entries) == {GOAL_MOOD: mood, GOAL_SLEEP: sleep}


def test_same_day_entries_are_ordered_by_recording_instant() -> None:
    p = plan()
    late = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED),),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 18),
    )
    early = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.REGRESSED),),
        note_id=NOTE_2,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 10),
    )
    assert [e.note_id for e in progress_history([*late, *early], GOAL_MOOD)] == [NOTE_2, NOTE_1]


def test_a_note_counts_once_in_a_goals_history() -> None:
    p = plan()
    once = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.MAINTAINED),),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 16),
    )
    retried = record_progress(
        p,
        (GoalRating(GOAL_MOOD, ProgressRating.PROGRESSING),),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 17),
    )
    history = progress_history([*once, *retried], GOAL_MOOD)
    assert len(history) == 1
    assert history[0].rating is ProgressRating.PROGRESSING


def test_the_client_sees_ratings_without_comments() -> None:
    (entry,) = record_progress(
        plan(),
        (GoalRating(GOAL_MOOD, ProgressRating.PROGRESSING, "Discussed the divorce"),),
        note_id=NOTE_1,
        on=date(2026, 5, 11),
        at=utc(2026, 5, 11, 16),
    )
    shown = for_client(entry)
    assert shown.comment == ""
    assert (shown.rating, shown.on, shown.goal_id) == (ProgressRating.PROGRESSING, date(2026, 5, 11), GOAL_MOOD)
    assert entry.comment == "Discussed the divorce"


def test_recording_instants_must_be_aware() -> None:
    with pytest.raises(ValidationFailed):
        record_progress(plan(), (), note_id=NOTE_1, on=date(2026, 5, 11), at=datetime(2026, 5, 11) + timedelta(0))
