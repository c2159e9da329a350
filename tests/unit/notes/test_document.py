from __future__ import annotations

import copy
import json
from datetime import UTC
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.notes.model import TEMPLATE_FIELDS, Addendum, NoteDocument, Template
from domain.notes.psychotherapy import PsychotherapyDocument
from domain.plans.jsondoc import DocumentError
from domain.plans.model import GoalRating, ProgressRating
from domain.shared.errors import ValidationFailed
from tests.unit.notes.factories import soap
from tests.unit.plans.factories import GOAL_MOOD, THERAPIST, utc

field_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t\r"), max_size=60)


@st.composite
def note_documents(draw: st.DrawFn) -> NoteDocument:
    template = draw(st.sampled_from(Template))
    values = {name: draw(field_text) for name in TEMPLATE_FIELDS[template]}
    goal_ids = draw(st.lists(st.uuids(), max_size=4, unique=True))
    ratings = tuple(
        GoalRating(goal_id, draw(st.sampled_from(ProgressRating)), draw(field_text)) for goal_id in goal_ids
    )
    return NoteDocument.of(template, values, ratings)


@settings(max_examples=150)
@given(note_documents())
def test_note_documents_round_trip_exactly(doc: NoteDocument) -> None:
    data = doc.to_dict()
    back = NoteDocument.from_dict(json.loads(json.dumps(data)))
    assert back == doc
    assert back.to_dict() == data


@settings(max_examples=100)
@given(
    st.builds(
        Addendum,
        id=st.uuids(),
        author_id=st.uuids(),
        written_at=st.datetimes(timezones=st.just(UTC)),
        text=field_text.filter(lambda s: s.strip() != ""),
    )
)
def test_addenda_round_trip_exactly(addendum: Addendum) -> None:
    data = addendum.to_dict()
    back = Addendum.from_dict(json.loads(json.dumps(data)))
    assert back == addendum
    assert back.to_dict() == data


def test_the_shape_of_a_note_document() -> None:
    data = soap().to_dict()
    assert data["v"] == 1
    assert data["template"] == "soap"
    assert list(data["fields"]) == ["subjective", "objective", "assessment", "plan"]  # type: ignore[call-overload]
    assert data["ratings"][0] == {  # type: ignore[index]
        "goal_id": str(GOAL_MOOD),
        "rating": "progressing",
        "comment": "More activities this week",
    }


def test_a_partial_draft_round_trips_with_empty_fields() -> None:
    doc = NoteDocument.of(Template.BIRP, {"behavior": "Withdrawn."})
    data = doc.to_dict()
    assert data["fields"] == {"behavior": "Withdrawn.", "intervention": "", "response": "", "plan": ""}
    assert NoteDocument.from_dict(data) == doc


def mutated(path: list[Any], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(soap().to_dict())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


DELETE = object()


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (mutated(["v"], 2), "v"),
        (mutated(["v"], DELETE), ""),
        (mutated(["signed"], True), ""),
        (mutated(["template"], "girp"), "template"),
        (mutated(["template"], "dap"), "fields"),  # fields of another template
        (mutated(["fields", "subjective"], DELETE), "fields"),
        (mutated(["fields", "data"], "x"), "fields"),
        (mutated(["fields", "plan"], None), "fields.plan"),
        (mutated(["fields"], ["s", "o", "a", "p"]), "fields"),
        (mutated(["ratings"], None), "ratings"),
        (mutated(["ratings", 0, "goal_id"], "mood"), "ratings[0].goal_id"),
        (mutated(["ratings", 0, "rating"], "better"), "ratings[0].rating"),
        (mutated(["ratings", 0, "comment"], DELETE), "ratings[0]"),
        (mutated(["ratings", 1, "score"], 3), "ratings[1]"),
    ],
)
def test_other_note_shapes_are_refused(data: dict[str, Any], path: str) -> None:
    with pytest.raises(DocumentError) as err:
        NoteDocument.from_dict(data)
    assert err.value.code == "invalid_document"
    assert err.value.path == path


def test_out_of_bounds_content_is_a_note_error_when_reading() -> None:
    with pytest.raises(ValidationFailed) as err:
        NoteDocument.from_dict(mutated(["ratings", 1, "goal_id"], str(GOAL_MOOD)))
    assert not isinstance(err.value, DocumentError)
    assert err.value.code == "invalid_note"


@pytest.mark.parametrize(
    ("key", "value"),
    [("written_at", "2026-05-05T11:00:00+02:00"), ("author_id", str(THERAPIST).replace("-", "")), ("text", 3)],
)
def test_other_addendum_shapes_are_refused(key: str, value: object) -> None:
    data = Addendum(THERAPIST, THERAPIST, utc(2026, 5, 5, 9), "ok").to_dict()
    data[key] = value
    with pytest.raises(DocumentError) as err:
        Addendum.from_dict(data)
    assert err.value.path == key


def test_an_addendum_read_back_is_still_bounded() -> None:
    data = Addendum(THERAPIST, THERAPIST, utc(2026, 5, 5, 9), "ok").to_dict()
    data["text"] = " "
    with pytest.raises(ValidationFailed) as err:
        Addendum.from_dict(data)
    assert err.value.code == "invalid_note"


def test_psychotherapy_documents_round_trip_and_refuse_other_shapes() -> None:
    doc = PsychotherapyDocument("Countertransference: felt protective.\nExplore next time.")
    data = doc.to_dict()
    assert data == {"v": 1, "text": doc.text}
    assert PsychotherapyDocument.from_dict(json.loads(json.dumps(data))) == doc
    with pytest.raises(DocumentError):
        PsychotherapyDocument.from_dict({"v": 1, "text": "x", "client": "y"})
    with pytest.raises(DocumentError):
        PsychotherapyDocument.from_dict({"v": 2, "text": "x"})
    with pytest.raises(ValidationFailed) as err:
        PsychotherapyDocument.from_dict({"v": 1, "text": ""})
    assert err.value.code == "invalid_note"
