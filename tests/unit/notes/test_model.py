from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace

import pytest

from domain.notes.model import (
    MAX_ADDENDA,
    MAX_ADDENDUM,
    MAX_FIELD,
    MAX_FREE_TEXT,
    TEMPLATE_FIELDS,
    Addendum,
    NoteDocument,
    NoteState,
    Signature,
    Template,
    add_addendum,
    content_hash,
    ensure_editable,
    ensure_note_allowed,
    hash_of,
    new_note,
    save_draft,
    sign,
    validate_document,
    verify_signature,
)
from domain.plans.model import GoalRating, ProgressRating
from domain.scheduling.model import AppointmentStatus
from domain.shared.errors import Conflict, Forbidden, InvalidState, StaleVersion, ValidationFailed
from tests.unit.notes.factories import APPOINTMENT_ID, NOTE_ID, RATINGS, SOAP, draft, signed, soap
from tests.unit.plans.factories import CLIENT, GOAL_MOOD, OTHER_THERAPIST, PRACTICE, THERAPIST, utc

FILLED = {
    Template.SOAP: SOAP,
    Template.DAP: {"data": "d", "assessment": "a", "plan": "p"},
    Template.BIRP: {"behavior": "b", "intervention": "i", "response": "r", "plan": "p"},
    Template.FREE: {"text": "Session focused on grief."},
}


# ---------------------------------------------------------------------------------------------- templates


def test_the_templates_and_their_fields() -> None:
    assert dict(TEMPLATE_FIELDS) == {
        Template.SOAP: ("subjective", "objective", "assessment", "plan"),
        Template.DAP: ("data", "assessment", "plan"),
        Template.BIRP: ("behavior", "intervention", "response", "plan"),
        Template.FREE: ("text",),
    }


@pytest.mark.parametrize("template", list(Template))
def test_a_document_holds_exactly_its_templates_fields_in_order(template: Template) -> None:
    empty = NoteDocument.of(template)
    assert tuple(empty.fields) == TEMPLATE_FIELDS[template]
    assert set(empty.fields.values()) == {""}
    assert empty.missing_fields() == TEMPLATE_FIELDS[template]
    partial = NoteDocument.of(template, {TEMPLATE_FIELDS[template][-1]: "x"})
    assert tuple(partial.fields) == TEMPLATE_FIELDS[template]
    assert partial.missing_fields() == TEMPLATE_FIELDS[template][:-1]


def test_a_field_of_another_template_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        NoteDocument.of(Template.DAP, {"subjective": "s"})
    assert err.value.code == "invalid_note"
    assert err.value.field == "fields.subjective"


def test_document_fields_are_read_only() -> None:
    doc = soap()
    with pytest.raises(TypeError):
        doc.fields["plan"] = "changed"  # type: ignore[index]


def test_a_documents_fields_do_not_alias_the_callers_dict() -> None:
    values = dict(SOAP)
    doc = NoteDocument.of(Template.SOAP, values)
    values["plan"] = "changed afterwards"
    assert doc.fields["plan"] == SOAP["plan"]


def test_equal_documents_hash_alike() -> None:
    assert soap() == soap()
    assert hash(soap()) == hash(soap())
    assert soap() != soap(plan="other")


# ---------------------------------------------------------------------------------------------- drafts


def test_a_new_note_is_a_partial_draft() -> None:
    note = draft(NoteDocument.of(Template.SOAP, {"subjective": "Only this so far."}))
    assert note.state is NoteState.DRAFT
    assert note.version == 1
    assert note.signature is None
    assert note.addenda == ()
    assert (note.id, note.appointment_id, note.client_id, note.therapist_id, note.practice_id) == (
        NOTE_ID,
        APPOINTMENT_ID,
        CLIENT,
        THERAPIST,
        PRACTICE,
    )
    assert note.created_at == note.updated_at == utc(2026, 5, 4, 15)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (soap(subjective="s" * (MAX_FIELD + 1)), "fields.subjective"),
        (soap(plan="nul\x00"), "fields.plan"),
        (NoteDocument.of(Template.FREE, {"text": "t" * (MAX_FREE_TEXT + 1)}), "fields.text"),
        (NoteDocument.of(Template.SOAP, SOAP, (*RATINGS, RATINGS[0])), "ratings[2].goal_id"),
        (
            NoteDocument.of(Template.SOAP, SOAP, (GoalRating(GOAL_MOOD, ProgressRating.REGRESSED, "c" * 2001),)),
            "ratings[0].comment",
        ),
        (NoteDocument.of(Template.SOAP, SOAP, (GoalRating(GOAL_MOOD, "better"),)), "ratings[0].rating"),  # type: ignore[arg-type]
        (
            NoteDocument.of(
                Template.SOAP, SOAP, tuple(GoalRating(uuid.uuid4(), ProgressRating.MAINTAINED) for _ in range(21))
            ),
            "ratings",
        ),
    ],
)
def test_drafts_are_bounded(doc: NoteDocument, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(doc)
    assert err.value.code == "invalid_note"
    assert err.value.field == field


def test_size_limits_are_inclusive() -> None:
    validate_document(soap(subjective="s" * MAX_FIELD))
    validate_document(NoteDocument.of(Template.FREE, {"text": "t" * MAX_FREE_TEXT}))


def test_saving_a_draft_bumps_its_version() -> None:
    note = draft(NoteDocument.of(Template.SOAP, {"subjective": "s"}))
    saved = save_draft(note, soap(), expected_version=1, at=utc(2026, 5, 4, 15, 30))
    assert saved.version == 2
    assert saved.updated_at == utc(2026, 5, 4, 15, 30)
    assert saved.document == soap()
    assert saved.state is NoteState.DRAFT
    assert note.document.fields["plan"] == ""  # the earlier value is untouched


def test_an_unchanged_autosave_is_free() -> None:
    note = draft()
    assert save_draft(note, soap(), expected_version=1, at=utc(2026, 5, 4, 16)) is note


def test_a_draft_from_an_outdated_copy_is_stale() -> None:
    note = save_draft(draft(), soap(plan="v2"), expected_version=1, at=utc(2026, 5, 4, 16))
    with pytest.raises(StaleVersion):
        save_draft(note, soap(plan="v3"), expected_version=1, at=utc(2026, 5, 4, 17))


def test_the_template_can_change_while_drafting() -> None:
    free = NoteDocument.of(Template.FREE, {"text": "Rewritten as prose."})
    saved = save_draft(draft(), free, expected_version=1, at=utc(2026, 5, 4, 16))
    assert saved.document.template is Template.FREE


# ---------------------------------------------------------------------------------------------- signing


@pytest.mark.parametrize("template", list(Template))
def test_every_template_signs_when_complete(template: Template) -> None:
    note = sign(draft(NoteDocument.of(template, FILLED[template])), signer_id=THERAPIST, at=utc(2026, 5, 4, 16))
    assert note.state is NoteState.SIGNED
    assert verify_signature(note)


@pytest.mark.parametrize(("template", "blank"), [(t, name) for t, names in TEMPLATE_FIELDS.items() for name in names])
def test_every_template_field_is_required_to_sign(template: Template, blank: str) -> None:
    for empty in ("", "  \n\t"):
        note = draft(NoteDocument.of(template, {**FILLED[template], blank: empty}))
        with pytest.raises(ValidationFailed) as err:
            sign(note, signer_id=THERAPIST, at=utc(2026, 5, 4, 16))
        assert err.value.code == "note_incomplete"
        assert err.value.field == f"fields.{blank}"


def test_ratings_are_optional_to_sign() -> None:
    note = sign(draft(NoteDocument.of(Template.DAP, FILLED[Template.DAP])), signer_id=THERAPIST, at=utc(2026, 5, 4, 16))
    assert note.document.ratings == ()


def test_signing_records_signer_time_and_hash() -> None:
    before = draft()
    note = sign(before, signer_id=THERAPIST, at=utc(2026, 5, 4, 16), expected_version=1)
    assert note.signature == Signature(signer_id=THERAPIST, signed_at=utc(2026, 5, 4, 16), content_hash=hash_of(before))
    assert note.version == 2
    assert note.updated_at == utc(2026, 5, 4, 16)
    assert note.document == before.document
    assert before.state is NoteState.DRAFT


def test_only_the_author_signs() -> None:
    with pytest.raises(Forbidden) as err:
        sign(draft(), signer_id=OTHER_THERAPIST, at=utc(2026, 5, 4, 16))
    assert err.value.code == "not_note_author"


def test_signing_an_outdated_copy_is_stale() -> None:
    note = save_draft(draft(), soap(plan="changed"), expected_version=1, at=utc(2026, 5, 4, 15, 30))
    with pytest.raises(StaleVersion):
        sign(note, signer_id=THERAPIST, at=utc(2026, 5, 4, 16), expected_version=1)


def test_a_note_is_not_signed_before_it_was_written() -> None:
    with pytest.raises(ValidationFailed) as err:
        sign(draft(), signer_id=THERAPIST, at=utc(2026, 5, 4, 14))
    assert err.value.field == "at"


# ---------------------------------------------------------------------------------------------- the hash


def test_the_hash_is_sha256_of_the_documented_canonical_form() -> None:
    expected_json = (
        '{"appointment_id":"' + str(APPOINTMENT_ID) + '",'
        '"client_id":"' + str(CLIENT) + '",'
        '"document":{"fields":{"text":"Ça va — 良い"},"ratings":[],"template":"free","v":1},'
        '"format":"hearth.progress_note.v1",'
        '"note_id":"' + str(NOTE_ID) + '",'
        '"therapist_id":"' + str(THERAPIST) + '"}'
    )
    doc = NoteDocument.of(Template.FREE, {"text": "Ça va — 良い"})
    digest = content_hash(
        note_id=NOTE_ID, appointment_id=APPOINTMENT_ID, client_id=CLIENT, therapist_id=THERAPIST, document=doc
    )
    assert digest == hashlib.sha256(expected_json.encode("utf-8")).hexdigest()
    assert len(digest) == 64
    json.loads(expected_json)  # the documented form is itself JSON


def test_the_hash_is_stable() -> None:
    assert hash_of(draft()) == hash_of(draft())
    rebuilt = NoteDocument.of(Template.SOAP, dict(reversed(list(SOAP.items()))), RATINGS)
    assert hash_of(draft(rebuilt)) == hash_of(draft())
    assert signed().signature == signed().signature


@pytest.mark.parametrize(
    "change",
    [
        *[{name: SOAP[name] + "."} for name in SOAP],
        {"subjective": SOAP["subjective"].replace("6/10", "7/10")},
        {"plan": SOAP["plan"] + " "},
    ],
)
def test_the_hash_changes_with_any_field(change: dict[str, str]) -> None:
    assert hash_of(draft(soap(**change))) != hash_of(draft())


def test_the_hash_changes_with_ratings_and_identity() -> None:
    base = hash_of(draft())
    other_rating = NoteDocument.of(
        Template.SOAP, SOAP, (GoalRating(RATINGS[0].goal_id, ProgressRating.REGRESSED, RATINGS[0].comment), RATINGS[1])
    )
    other_comment = NoteDocument.of(Template.SOAP, SOAP, (replace(RATINGS[0], comment="x"), RATINGS[1]))
    reordered = NoteDocument.of(Template.SOAP, SOAP, tuple(reversed(RATINGS)))
    for doc in (other_rating, other_comment, reordered, NoteDocument.of(Template.SOAP, SOAP)):
        assert hash_of(draft(doc)) != base
    for identity in ("id", "appointment_id", "client_id", "therapist_id"):
        assert hash_of(replace(draft(), **{identity: uuid.uuid4()})) != base  # type: ignore[arg-type]


def test_verify_signature_detects_changed_content() -> None:
    note = signed()
    assert verify_signature(note)
    tampered = replace(note, document=soap(plan="Something else entirely."))
    assert not verify_signature(tampered)
    assert not verify_signature(replace(note, client_id=uuid.uuid4()))
    assert not verify_signature(draft())


# ---------------------------------------------------------------------------------------------- locked


def test_a_signed_note_cannot_be_edited() -> None:
    note = signed()
    with pytest.raises(Conflict) as err:
        save_draft(note, soap(plan="Changed after signing."), expected_version=note.version, at=utc(2026, 5, 5))
    assert err.value.code == "note_signed"


def test_a_signed_note_refuses_even_an_identical_save_and_a_stale_one() -> None:
    note = signed()
    for version in (note.version, 1, 99):
        with pytest.raises(Conflict) as err:
            save_draft(note, note.document, expected_version=version, at=utc(2026, 5, 5))
        assert err.value.code == "note_signed"


def test_a_signed_note_cannot_be_signed_again() -> None:
    with pytest.raises(Conflict) as err:
        sign(signed(), signer_id=THERAPIST, at=utc(2026, 5, 5))
    assert err.value.code == "note_signed"
    with pytest.raises(Conflict):
        ensure_editable(signed())
    ensure_editable(draft())


# ---------------------------------------------------------------------------------------------- addenda

ADD_1 = uuid.UUID("00000000-0000-0000-0000-000000000601")
ADD_2 = uuid.UUID("00000000-0000-0000-0000-000000000602")


def test_addenda_append_without_touching_the_original() -> None:
    note = signed()
    one = add_addendum(
        note, id=ADD_1, author_id=THERAPIST, text="Client called: PHQ-9 was 12, not 11.", at=utc(2026, 5, 6, 9)
    )
    two = add_addendum(one, id=ADD_2, author_id=THERAPIST, text="Spoke with the GP.", at=utc(2026, 5, 7, 9))
    assert two.addenda == (
        Addendum(ADD_1, THERAPIST, utc(2026, 5, 6, 9), "Client called: PHQ-9 was 12, not 11."),
        Addendum(ADD_2, THERAPIST, utc(2026, 5, 7, 9), "Spoke with the GP."),
    )
    assert two.document == note.document
    assert two.signature == note.signature
    assert verify_signature(two)
    assert (one.version, two.version) == (note.version + 1, note.version + 2)
    assert note.addenda == ()
    assert two.state is NoteState.SIGNED


def test_addenda_only_on_signed_notes() -> None:
    with pytest.raises(InvalidState) as err:
        add_addendum(draft(), id=ADD_1, author_id=THERAPIST, text="Too early.", at=utc(2026, 5, 5))
    assert err.value.code == "note_not_signed"


def test_only_the_author_adds_addenda() -> None:
    with pytest.raises(Forbidden) as err:
        add_addendum(signed(), id=ADD_1, author_id=OTHER_THERAPIST, text="Not mine.", at=utc(2026, 5, 5))
    assert err.value.code == "not_note_author"


@pytest.mark.parametrize("text", ["", "   ", "a" * (MAX_ADDENDUM + 1), "bell\x07"])
def test_addendum_text_is_bounded(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        add_addendum(signed(), id=ADD_1, author_id=THERAPIST, text=text, at=utc(2026, 5, 5))
    assert err.value.code == "invalid_note"
    assert err.value.field == "text"


def test_an_addendum_is_dated_after_signing() -> None:
    with pytest.raises(ValidationFailed) as err:
        add_addendum(signed(), id=ADD_1, author_id=THERAPIST, text="Backdated.", at=utc(2026, 5, 4, 15, 59))
    assert err.value.field == "at"
    at_signing = add_addendum(signed(), id=ADD_1, author_id=THERAPIST, text="Same minute.", at=utc(2026, 5, 4, 16))
    assert len(at_signing.addenda) == 1


def test_addenda_are_bounded_in_number() -> None:
    note = signed()
    for n in range(MAX_ADDENDA):
        note = add_addendum(note, id=uuid.UUID(int=n + 1), author_id=THERAPIST, text=f"#{n}", at=utc(2026, 5, 5))
    with pytest.raises(ValidationFailed) as err:
        add_addendum(note, id=uuid.uuid4(), author_id=THERAPIST, text="one more", at=utc(2026, 5, 5))
    assert err.value.field == "addenda"


def test_an_addendum_retry_is_idempotent_and_a_clash_is_a_conflict() -> None:
    note = add_addendum(signed(), id=ADD_1, author_id=THERAPIST, text="Once.", at=utc(2026, 5, 5))
    assert add_addendum(note, id=ADD_1, author_id=THERAPIST, text="Once.", at=utc(2026, 5, 5, 0, 1)) is note
    with pytest.raises(Conflict) as err:
        add_addendum(note, id=ADD_1, author_id=THERAPIST, text="Different.", at=utc(2026, 5, 5))
    assert err.value.code == "addendum_exists"


# ---------------------------------------------------------------------------------------------- one per appointment


def test_a_note_is_opened_for_a_completed_session_without_one() -> None:
    ensure_note_allowed(AppointmentStatus.COMPLETED, None)
    with pytest.raises(Conflict) as err:
        ensure_note_allowed(AppointmentStatus.COMPLETED, draft())
    assert err.value.code == "note_exists"


@pytest.mark.parametrize("status", [s for s in AppointmentStatus if s is not AppointmentStatus.COMPLETED])
def test_no_note_before_the_session_is_completed(status: AppointmentStatus) -> None:
    with pytest.raises(InvalidState) as err:
        ensure_note_allowed(status, None)
    assert err.value.code == "session_not_completed"


def test_a_naive_instant_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(ValidationFailed) as err:
        new_note(
            id=NOTE_ID,
            appointment_id=APPOINTMENT_ID,
            practice_id=PRACTICE,
            client_id=CLIENT,
            therapist_id=THERAPIST,
            document=soap(),
            created_at=datetime(2026, 5, 4, 15),
        )
    assert err.value.code == "invalid_datetime"
