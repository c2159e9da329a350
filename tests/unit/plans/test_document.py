from __future__ import annotations

import copy
import json
import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.plans.jsondoc import DocumentError
from domain.plans.model import (
    MAX_GOALS,
    MAX_OBJECTIVES_PER_GOAL,
    Comparison,
    Goal,
    Intervention,
    ItemStatus,
    Objective,
    PlanDocument,
    ProgressEntry,
    ProgressRating,
    ScoreTarget,
)
from domain.shared.errors import ValidationFailed
from tests.unit.plans.factories import GOAL_MOOD, PLAN_ID, document, utc

# ---------------------------------------------------------------------------------------------- strategies

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
one_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
statuses = st.sampled_from(ItemStatus)
targets = st.builds(
    ScoreTarget, st.sampled_from(["phq9", "gad7", "pcl5_total"]), st.sampled_from(Comparison), st.integers(0, 1000)
)


@st.composite
def objectives(draw: st.DrawFn) -> Objective:
    target = draw(st.none() | targets)
    return Objective(
        id=draw(st.uuids()),
        text=draw(texts),
        status=draw(statuses),
        target_date=draw(dates) if target is not None else draw(st.none() | dates),
        score_target=target,
    )


goals = st.builds(
    Goal,
    id=st.uuids(),
    text=texts,
    status=statuses,
    target_date=st.none() | dates,
    objectives=st.lists(objectives(), max_size=3).map(tuple),
)


@st.composite
def plan_documents(draw: st.DrawFn) -> PlanDocument:
    doc = PlanDocument(
        problems=tuple(draw(st.lists(texts, max_size=4))),
        goals=tuple(draw(st.lists(goals, max_size=4))),
        interventions=tuple(draw(st.lists(st.builds(Intervention, texts, one_line), max_size=4))),
        review_date=draw(st.none() | dates),
    )
    ids = [g.id for g in doc.goals] + [o.id for g in doc.goals for o in g.objectives]
    if len(set(ids)) != len(ids):  # pragma: no cover - uuid collisions
        return PlanDocument()
    return doc


# ---------------------------------------------------------------------------------------------- round trips


def test_the_shape_of_a_document() -> None:
    data = document().to_dict()
    assert data["v"] == 1
    assert set(data) == {"v", "problems", "goals", "interventions", "review_date"}
    goal = data["goals"][0]  # type: ignore[index]
    assert goal["id"] == str(GOAL_MOOD)
    assert goal["status"] == "in_progress"
    assert goal["target_date"] == "2026-10-01"
    assert goal["objectives"][0]["score_target"] == {"instrument": "phq9", "comparison": "<", "value": 10}
    assert goal["objectives"][1]["score_target"] is None
    assert data["review_date"] == "2026-08-01"
    assert data["interventions"] == [
        {"text": "Behavioural activation", "frequency": "weekly"},
        {"text": "Sleep hygiene education", "frequency": ""},
    ]


def test_a_document_survives_json() -> None:
    doc = document()
    text = json.dumps(doc.to_dict())
    assert PlanDocument.from_dict(json.loads(text)) == doc


@settings(max_examples=150)
@given(plan_documents())
def test_to_dict_from_dict_is_an_exact_round_trip(doc: PlanDocument) -> None:
    data = doc.to_dict()
    back = PlanDocument.from_dict(json.loads(json.dumps(data)))
    assert back == doc
    assert back.to_dict() == data


@settings(max_examples=100)
@given(
    st.builds(
        ProgressEntry,
        plan_id=st.uuids(),
        goal_id=st.uuids(),
        note_id=st.uuids(),
        rating=st.sampled_from(ProgressRating),
        comment=st.just("") | texts,
        on=dates,
        recorded_at=st.datetimes(
            min_value=utc(2000, 1, 1).replace(tzinfo=None), max_value=utc(2100, 1, 1).replace(tzinfo=None)
        ).map(lambda d: d.replace(tzinfo=utc(2000, 1, 1).tzinfo)),
    )
)
def test_progress_entries_round_trip(entry: ProgressEntry) -> None:
    data = entry.to_dict()
    back = ProgressEntry.from_dict(json.loads(json.dumps(data)))
    assert back == entry
    assert back.to_dict() == data


# ---------------------------------------------------------------------------------------------- rejections


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(document().to_dict())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (mutate(["v"], 2), "v"),
        (mutate(["v"], "1"), "v"),
        (mutate(["v"], True), "v"),
        (mutate(["v"], _DELETE), ""),
        (mutate(["extra"], 1), ""),
        (mutate(["problems"], _DELETE), ""),
        (mutate(["problems"], "Low mood"), "problems"),
        (mutate(["problems", 0], 7), "problems[0]"),
        (mutate(["goals"], {}), "goals"),
        (mutate(["goals", 0], []), "goals[0]"),
        (mutate(["goals", 0, "id"], "not-a-uuid"), "goals[0].id"),
        (mutate(["goals", 0, "id"], "0000000A-0000-4000-8000-00000000ABCD"), "goals[0].id"),
        (mutate(["goals", 0, "id"], GOAL_MOOD.hex), "goals[0].id"),
        (mutate(["goals", 0, "id"], "{" + str(GOAL_MOOD) + "}"), "goals[0].id"),
        (mutate(["goals", 0, "status"], "done"), "goals[0].status"),
        (mutate(["goals", 0, "target_date"], "2026-10-1"), "goals[0].target_date"),
        (mutate(["goals", 0, "target_date"], "20261001"), "goals[0].target_date"),
        (mutate(["goals", 0, "target_date"], "2026-10-01T00:00:00"), "goals[0].target_date"),
        (mutate(["goals", 0, "colour"], "red"), "goals[0]"),
        (
            mutate(["goals", 0, "objectives", 0, "score_target", "value"], 9.5),
            "goals[0].objectives[0].score_target.value",
        ),
        (
            mutate(["goals", 0, "objectives", 0, "score_target", "value"], "10"),
            "goals[0].objectives[0].score_target.value",
        ),
        (
            mutate(["goals", 0, "objectives", 0, "score_target", "comparison"], "=="),
            "goals[0].objectives[0].score_target.comparison",
        ),
        (
            mutate(["goals", 0, "objectives", 0, "score_target", "by"], "2026-09-01"),
            "goals[0].objectives[0].score_target",
        ),
        (mutate(["goals", 0, "objectives", 1, "score_target"], "phq9<10"), "goals[0].objectives[1].score_target"),
        (mutate(["interventions", 0, "frequency"], None), "interventions[0].frequency"),
        (mutate(["review_date"], 20260801), "review_date"),
    ],
)
def test_unknown_shapes_are_refused_with_their_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(DocumentError) as err:
        PlanDocument.from_dict(data)
    assert err.value.code == "invalid_document"
    assert err.value.path == path
    assert isinstance(err.value, ValidationFailed)


@pytest.mark.parametrize("data", [None, [], "{}", 1])
def test_a_non_object_is_refused(data: object) -> None:
    with pytest.raises(DocumentError) as err:
        PlanDocument.from_dict(data)
    assert "expected an object" in err.value.detail


def test_a_future_version_says_so() -> None:
    with pytest.raises(DocumentError) as err:
        PlanDocument.from_dict(mutate(["v"], 2))
    assert "unsupported document version 2" in err.value.detail


def test_unknown_and_missing_keys_are_named() -> None:
    data = mutate(["extra"], 1)
    del data["review_date"]
    with pytest.raises(DocumentError) as err:
        PlanDocument.from_dict(data)
    assert "extra" in err.value.detail


def test_well_shaped_but_invalid_content_is_a_plan_error() -> None:
    with pytest.raises(ValidationFailed) as err:
        PlanDocument.from_dict(mutate(["goals", 1, "id"], str(GOAL_MOOD)))
    assert not isinstance(err.value, DocumentError)
    assert err.value.code == "invalid_plan"
    assert err.value.field == "goals[1].id"


def test_bounds_apply_when_reading() -> None:
    many: list[dict[str, Any]] = [
        {"id": str(uuid.uuid4()), "text": "g", "status": "not_started", "target_date": None, "objectives": []}
        for _ in range(MAX_GOALS + 1)
    ]
    with pytest.raises(ValidationFailed) as err:
        PlanDocument.from_dict(mutate(["goals"], many))
    assert err.value.field == "goals"
    assert err.value.code == "invalid_plan"
    objectives = [
        {"id": str(uuid.uuid4()), "text": "o", "status": "not_started", "target_date": None, "score_target": None}
        for _ in range(MAX_OBJECTIVES_PER_GOAL + 1)
    ]
    with pytest.raises(ValidationFailed) as err:
        PlanDocument.from_dict(mutate(["goals", 1, "objectives"], objectives))
    assert err.value.field == "goals[1].objectives"


def _entry_dict() -> dict[str, Any]:
    return ProgressEntry(
        PLAN_ID, GOAL_MOOD, uuid.UUID(int=7), ProgressRating.MAINTAINED, "ok", date(2026, 5, 11), utc(2026, 5, 11, 16)
    ).to_dict()


def test_a_progress_entry_dict_is_canonical() -> None:
    data = _entry_dict()
    assert data["recorded_at"] == "2026-05-11T16:00:00+00:00"
    assert data["on"] == "2026-05-11"
    assert data["rating"] == "maintained"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("recorded_at", "2026-05-11T18:00:00+02:00"),  # same instant, not the canonical form
        ("recorded_at", "2026-05-11T16:00:00"),
        ("recorded_at", "2026-05-11T16:00:00Z"),
        ("rating", "better"),
        ("note_id", None),
    ],
)
def test_a_progress_entry_in_another_shape_is_refused(key: str, value: object) -> None:
    data = _entry_dict()
    data[key] = value
    with pytest.raises(DocumentError) as err:
        ProgressEntry.from_dict(data)
    assert err.value.path == key
