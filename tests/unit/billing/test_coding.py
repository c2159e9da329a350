from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from domain.billing.coding import (
    BRIEF_CHECK_IN,
    Coding,
    CodingBasis,
    CodingField,
    code_session,
    normalize_diagnosis,
    override_coding,
)
from domain.scheduling.model import Modality
from domain.shared.errors import ValidationFailed
from tests.unit.billing.factories import THERAPIST, utc

DX = ["F41.1"]
AT = utc(2026, 3, 9, 16)

# The coding table at every boundary, for every voice modality, at home and elsewhere.
BOUNDARIES = [(15, BRIEF_CHECK_IN), (16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")]
MODIFIERS = [(Modality.VIDEO, "95"), (Modality.AUDIO, "93"), (Modality.PHONE, "93")]


@pytest.mark.parametrize(("minutes", "cpt"), BOUNDARIES)
@pytest.mark.parametrize(("modality", "modifier"), MODIFIERS)
@pytest.mark.parametrize(("at_home", "pos"), [(True, "10"), (False, "02")])
def test_coding_table(minutes: int, cpt: str, modality: Modality, modifier: str, at_home: bool, pos: str) -> None:
    coding = code_session({modality: minutes}, at_home=at_home, diagnoses=DX)
    assert coding.cpt == cpt
    assert coding.place_of_service == pos
    assert coding.psychotherapy_minutes == minutes
    if cpt == BRIEF_CHECK_IN:
        assert coding.basis is CodingBasis.BRIEF_CHECK_IN
        assert coding.modifier is None  # a communication-technology service, not telehealth psychotherapy
        assert coding.procedure == "G2251"
    else:
        assert coding.basis is CodingBasis.PSYCHOTHERAPY
        assert coding.modifier == modifier
        assert coding.procedure == f"{cpt}-{modifier}"
    assert coding.overrides == ()


def test_a_50_minute_video_session_from_home_is_90834_95_pos_10() -> None:
    coding = code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=["f41.1", "Z63.0"])
    assert (coding.procedure, coding.place_of_service, coding.diagnoses) == ("90834-95", "10", ("F41.1", "Z63.0"))


def test_long_sessions_stay_90837() -> None:
    assert code_session({Modality.VIDEO: 90}, at_home=False, diagnoses=DX).cpt == "90837"


def test_minutes_of_a_stepped_down_session_add_up_across_voice_modalities() -> None:
    # 20 min video, then 20 min audio, then 10 min phone call-back: 50 voice minutes, mostly audio-only
    coding = code_session({Modality.VIDEO: 20, Modality.AUDIO: 20, Modality.PHONE: 10}, at_home=True, diagnoses=DX)
    assert (coding.cpt, coding.modifier) == ("90834", "93")


def test_mostly_video_is_95() -> None:
    coding = code_session({Modality.VIDEO: 26, Modality.PHONE: 25}, at_home=True, diagnoses=DX)
    assert (coding.cpt, coding.modifier) == ("90834", "95")


def test_a_tie_between_video_and_audio_only_is_93() -> None:
    coding = code_session({Modality.VIDEO: 20, Modality.AUDIO: 10, Modality.PHONE: 10}, at_home=True, diagnoses=DX)
    assert coding.modifier == "93"


def test_chat_minutes_are_not_psychotherapy_time() -> None:
    coding = code_session({Modality.VIDEO: 30, Modality.CHAT: 25}, at_home=True, diagnoses=DX)
    assert (coding.cpt, coding.modifier) == ("90832", "95")  # 30 voice minutes, not 55
    assert (coding.psychotherapy_minutes, coding.chat_minutes) == (30, 25)


def test_chat_never_chooses_the_modifier() -> None:
    coding = code_session({Modality.AUDIO: 20, Modality.CHAT: 40}, at_home=False, diagnoses=DX)
    assert (coding.cpt, coding.modifier, coding.place_of_service) == ("90832", "93", "02")


@pytest.mark.parametrize("minutes", [{Modality.CHAT: 45}, {}, {Modality.VIDEO: 0}])
def test_no_voice_minute_is_not_billable(minutes: dict[Modality, int]) -> None:
    coding = code_session(minutes, at_home=True, diagnoses=DX)
    assert coding.cpt is None and coding.modifier is None and coding.procedure is None
    assert coding.basis is CodingBasis.NOT_BILLABLE


def test_one_voice_minute_is_a_brief_check_in() -> None:
    assert code_session({Modality.PHONE: 1}, at_home=True, diagnoses=DX).cpt == BRIEF_CHECK_IN


@pytest.mark.parametrize("minutes", [{Modality.VIDEO: -1}, {Modality.VIDEO: 1.5}, {Modality.VIDEO: True}])
def test_minutes_are_non_negative_whole_numbers(minutes: dict[Modality, int]) -> None:
    with pytest.raises(ValidationFailed) as err:
        code_session(minutes, at_home=True, diagnoses=DX)
    assert err.value.code == "invalid_minutes"


def test_unknown_modality_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        code_session({"telepathy": 30}, at_home=True, diagnoses=DX)  # type: ignore[dict-item]
    assert err.value.code == "invalid_minutes"


# ---------------------------------------------------------------------------------------------- diagnoses


@pytest.mark.parametrize(
    ("raw", "printed"),
    [
        ("F41.1", "F41.1"),
        ("f411", "F41.1"),
        (" F32.A ", "F32.A"),
        ("F43.10", "F43.10"),
        ("Z63", "Z63"),
        ("T74.11XA", "T74.11XA"),
        ("C4A.0", "C4A.0"),
    ],
)
def test_diagnosis_codes_are_normalised(raw: str, printed: str) -> None:
    assert normalize_diagnosis(raw) == printed


@pytest.mark.parametrize("raw", ["", "F4", "41.1", "F41.", "F41.12345", "FF1.1", "F41-1", "F41.1 Z63.0", "F4!.1"])
def test_malformed_diagnosis_codes_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalize_diagnosis(raw)
    assert err.value.code == "invalid_diagnosis"


@pytest.mark.parametrize(
    "codes", [[], ["F41.1", "F32.0", "F43.10", "Z63.0", "F40.10"], ["F41.1", "f411"]], ids=["none", "five", "dup"]
)
def test_one_to_four_distinct_diagnoses(codes: list[str]) -> None:
    with pytest.raises(ValidationFailed) as err:
        code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=codes)
    assert err.value.code == "invalid_diagnosis"


def test_four_diagnoses_keep_their_order() -> None:
    codes = ["Z63.0", "F41.1", "F32.0", "F43.10"]
    assert code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=codes).diagnoses == tuple(codes)


def test_a_single_string_is_not_a_list_of_diagnoses() -> None:
    with pytest.raises(ValidationFailed):
        code_session({Modality.VIDEO: 50}, at_home=True, diagnoses="F41.1")


# ---------------------------------------------------------------------------------------------- overrides


def base() -> Coding:
    return code_session({Modality.VIDEO: 50}, at_home=True, diagnoses=["F41.1"])


def test_override_each_field_records_what_who_why_and_when() -> None:
    coding, records = override_coding(
        base(),
        reason="Client was at a friend's flat, not home",
        by=THERAPIST,
        at=AT,
        place_of_service="02",
    )
    assert coding.place_of_service == "02"
    assert (coding.cpt, coding.modifier, coding.diagnoses) == ("90834", "95", ("F41.1",))
    (record,) = records
    assert record.field is CodingField.PLACE_OF_SERVICE
    assert (record.previous, record.new) == ("10", "02")
    assert record.reason == "Client was at a friend's flat, not home"
    assert (record.by, record.at) == (THERAPIST, AT)
    assert coding.overrides == records and coding.overridden
    # what was measured does not change
    assert (coding.basis, coding.psychotherapy_minutes) == (CodingBasis.PSYCHOTHERAPY, 50)


def test_override_several_fields_at_once_gives_one_record_per_changed_field() -> None:
    coding, records = override_coding(
        base(),
        reason="Video froze for most of the session; it was audio",
        by=THERAPIST,
        at=AT,
        cpt="90832",
        modifier="93",
        place_of_service="10",  # unchanged: no record
        diagnoses=["F41.1", "f32.0"],
    )
    assert coding.procedure == "90832-93"
    assert coding.diagnoses == ("F41.1", "F32.0")
    assert [(r.field, r.previous, r.new) for r in records] == [
        (CodingField.CPT, "90834", "90832"),
        (CodingField.MODIFIER, "95", "93"),
        (CodingField.DIAGNOSES, "F41.1", "F41.1,F32.0"),
    ]


def test_overrides_accumulate() -> None:
    first, _ = override_coding(base(), reason="one", by=THERAPIST, at=AT, modifier="93")
    second, records = override_coding(first, reason="two", by=THERAPIST, at=AT, modifier="95")
    assert [r.reason for r in second.overrides] == ["one", "two"]
    assert second.overrides[-1] == records[0]


def test_the_modifier_can_be_removed() -> None:
    coding, (record,) = override_coding(base(), reason="Payer wants none", by=THERAPIST, at=AT, modifier=None)
    assert coding.modifier is None and coding.procedure == "90834"
    assert (record.previous, record.new) == ("95", None)


def test_a_chat_session_can_be_given_a_code() -> None:
    chat = code_session({Modality.CHAT: 30}, at_home=True, diagnoses=DX)
    coding, _ = override_coding(chat, reason="Payer covers it", by=THERAPIST, at=AT, cpt="98972")
    assert coding.cpt == "98972"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_needs_a_reason(reason: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        override_coding(base(), reason=reason, by=THERAPIST, at=AT, cpt="90837")
    assert err.value.code == "reason_required"


def test_an_overlong_reason_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        override_coding(base(), reason="x" * 501, by=THERAPIST, at=AT, cpt="90837")
    assert err.value.code == "invalid_reason"


def test_an_override_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        override_coding(base(), reason="why not", by=THERAPIST, at=AT, cpt="90834", modifier="95")
    assert err.value.code == "nothing_to_override"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"cpt": "9083"}, "invalid_coding"),
        ({"cpt": "ABCDE"}, "invalid_coding"),
        ({"modifier": "9"}, "invalid_coding"),
        ({"modifier": "ZZ"}, "invalid_coding"),  # two characters, but no modifier ("90834-ZZ" was accepted)
        ({"modifier": "GQ"}, "invalid_coding"),  # asynchronous store-and-forward: no coded service is
        ({"place_of_service": "1"}, "invalid_coding"),
        ({"place_of_service": "00"}, "invalid_coding"),
        ({"cpt": None}, "invalid_coding"),  # leaves modifier 95 without a code
        ({"diagnoses": []}, "invalid_diagnosis"),
    ],
)
def test_overridden_values_are_validated(fields: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        override_coding(base(), reason="r", by=THERAPIST, at=AT, **fields)  # type: ignore[arg-type]
    assert err.value.code == code


def test_override_needs_an_aware_instant() -> None:
    with pytest.raises(ValidationFailed) as err:
        override_coding(base(), reason="r", by=THERAPIST, at=datetime(2026, 3, 9, 16), cpt="90837")
    assert err.value.code == "invalid_datetime"


@pytest.mark.parametrize("modifier", ["93", "GT", "fq"])
def test_the_synchronous_telehealth_modifiers_are_accepted(modifier: str) -> None:
    coding, _ = override_coding(base(), reason="The payer's form", by=THERAPIST, at=AT, modifier=modifier)
    assert coding.procedure == f"90834-{modifier.upper()}"


def test_codes_are_upper_cased_on_override() -> None:
    coding, _ = override_coding(base(), reason="r", by=uuid.uuid4(), at=AT, cpt="g2251", modifier=None)
    assert coding.cpt == "G2251"
