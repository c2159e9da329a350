"""Coding a completed session from what really happened in it.

Input: the connected minutes per modality (from the session's own timeline, after step-downs), whether the
client's check-in said they were at home, and the client's diagnosis codes. Output: a `Coding` (CPT or
HCPCS code, telehealth modifier, place of service, ICD-10-CM diagnoses) that the therapist may override field
by field, each override with a reason and recorded as a `CodingOverride` (the service writes it to the audit
trail and keeps it with the charge).

Rules (constants below; decisions marked *):

* **Psychotherapy minutes** are the real-time voice minutes: video + app audio + phone. *Live text chat is not
  psychotherapy time*: the psychotherapy CPT codes reported as telehealth require real-time audio-video or
  audio-only interaction, so chat minutes never count toward the code and never choose the modifier. They are
  kept on the result (`chat_minutes`) for the record.
* **CPT by psychotherapy minutes**: 16-37 -> 90832, 38-52 -> 90834, 53 and more -> 90837 (CPT's time rule: a
  unit of time is met once its midpoint is passed).
* *Under 16 minutes* it is not psychotherapy. With at least one real-time voice minute it is coded as a brief
  check-in with **HCPCS G2251** ("brief communication technology-based service, e.g. virtual check-in, by a
  qualified health care professional who cannot report evaluation and management services", the code for
  therapists - psychologists, LCSWs, LPCs - rather than physicians). Payers define it as 5-10 minutes of
  clinical discussion; Hearth proposes it for any 1-15 voice minutes and the therapist overrides when it does
  not fit. G2251 is a communication-technology service, not a telehealth service, so it carries no telehealth
  modifier.
* *No voice minute at all* (chat only, or nothing connected): `cpt` is `None`, basis `not_billable`: nothing
  is proposed for insurance. A chat session can still be charged to the client at the therapist's rate; one
  with no connected minute at all is charged nothing (see `BillingService.record_completed_session`).
* **Place of service** from the check-in: at home -> "10" (telehealth in the patient's home), elsewhere -> "02"
  (telehealth other than in the patient's home).
* **Modifier** from the modality used for most of the psychotherapy minutes: video -> "95"; audio or phone
  (both audio-only) -> "93". *A tie goes to "93"*: "95" asserts the service was mostly audio-video, which a tie
  does not show. *An override may choose only a synchronous telehealth modifier* (`TELEHEALTH_MODIFIERS`).
* **Diagnoses**: 1 to 4 ICD-10-CM codes (the diagnosis pointers one claim line can carry), the first primary,
  no duplicates, normalised to upper case with the dot after the category ("f411" -> "F41.1").
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, StrEnum

from domain.scheduling.localtime import ensure_utc
from domain.scheduling.model import Modality
from domain.shared.errors import ValidationFailed, quoted

PSYCHOTHERAPY_30 = "90832"
PSYCHOTHERAPY_45 = "90834"
PSYCHOTHERAPY_60 = "90837"
BRIEF_CHECK_IN = "G2251"
MIN_PSYCHOTHERAPY_MINUTES = 16
MIN_45_MINUTES = 38
MIN_60_MINUTES = 53
POS_HOME = "10"
POS_ELSEWHERE = "02"
MODIFIER_VIDEO = "95"
MODIFIER_AUDIO_ONLY = "93"
# What a therapist may put in the telehealth modifier by override. The coded services are real-time only (chat
# and anything asynchronous never count), so the list is the synchronous telehealth modifiers: CPT 95
# (audio-video) and 93 (audio-only), HCPCS GT (audio-video, the older form some payers and Medicaid plans still
# require) and FQ (audio-only, HCPCS's form of 93). GQ (asynchronous store-and-forward) is refused: no coded
# service is asynchronous.
TELEHEALTH_MODIFIERS: frozenset[str] = frozenset({MODIFIER_VIDEO, MODIFIER_AUDIO_ONLY, "GT", "FQ"})
MAX_DIAGNOSES = 4
MAX_SESSION_MINUTES = 24 * 60
MAX_REASON_LENGTH = 500

VOICE_MODALITIES: frozenset[Modality] = frozenset({Modality.VIDEO, Modality.AUDIO, Modality.PHONE})
AUDIO_ONLY_MODALITIES: frozenset[Modality] = frozenset({Modality.AUDIO, Modality.PHONE})

_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
_PROCEDURE = re.compile(r"^([0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")  # CPT I (5 digits), II/III (4 digits + F/T), HCPCS
_POS = re.compile(r"^[0-9]{2}$")


class CodingBasis(StrEnum):
    """How the proposed code was reached."""

    PSYCHOTHERAPY = "psychotherapy"
    BRIEF_CHECK_IN = "brief_check_in"
    NOT_BILLABLE = "not_billable"


class CodingField(StrEnum):
    CPT = "cpt"
    MODIFIER = "modifier"
    PLACE_OF_SERVICE = "place_of_service"
    DIAGNOSES = "diagnoses"


@dataclass(frozen=True, slots=True)
class CodingOverride:
    """One field the therapist changed: from what, to what, why, who, when. Diagnoses render comma-joined."""

    field: CodingField
    previous: str | None
    new: str | None
    reason: str
    by: uuid.UUID
    at: datetime


@dataclass(frozen=True, slots=True)
class Coding:
    """The codes of one session's charge. `basis`, `psychotherapy_minutes` and `chat_minutes` describe the
    session as measured and never change; the four coded fields may be overridden (see `overrides`)."""

    cpt: str | None
    modifier: str | None
    place_of_service: str
    diagnoses: tuple[str, ...]
    basis: CodingBasis
    psychotherapy_minutes: int
    chat_minutes: int
    overrides: tuple[CodingOverride, ...] = ()

    @property
    def overridden(self) -> bool:
        return bool(self.overrides)

    @property
    def procedure(self) -> str | None:
        """CPT with its modifier as printed on a superbill line: "90834-95", "G2251", or None."""
        if self.cpt is None:
            return None
        return f"{self.cpt}-{self.modifier}" if self.modifier else self.cpt


def cpt_for_minutes(minutes: int) -> tuple[str | None, CodingBasis]:
    """The code proposed for `minutes` of real-time voice psychotherapy (see the module docstring)."""
    if minutes >= MIN_60_MINUTES:
        return PSYCHOTHERAPY_60, CodingBasis.PSYCHOTHERAPY
    if minutes >= MIN_45_MINUTES:
        return PSYCHOTHERAPY_45, CodingBasis.PSYCHOTHERAPY
    if minutes >= MIN_PSYCHOTHERAPY_MINUTES:
        return PSYCHOTHERAPY_30, CodingBasis.PSYCHOTHERAPY
    if minutes > 0:
        return BRIEF_CHECK_IN, CodingBasis.BRIEF_CHECK_IN
    return None, CodingBasis.NOT_BILLABLE


def place_of_service(*, at_home: bool) -> str:
    return POS_HOME if at_home else POS_ELSEWHERE


def telehealth_modifier(minutes: Mapping[Modality, int]) -> str | None:
    """ "95" when video carried more than half of the voice minutes, "93" otherwise; None without voice minutes."""
    video = minutes.get(Modality.VIDEO, 0)
    audio_only = sum(minutes.get(m, 0) for m in AUDIO_ONLY_MODALITIES)
    if video + audio_only == 0:
        return None
    return MODIFIER_VIDEO if video > audio_only else MODIFIER_AUDIO_ONLY


def normalize_diagnosis(code: str) -> str:
    """An ICD-10-CM code in its printed form ("F41.1"), else `ValidationFailed(code="invalid_diagnosis")`."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    if not _ICD10.match(text):
        raise ValidationFailed(
            f"{quoted(code)} is not an ICD-10-CM code such as 'F41.1'.", code="invalid_diagnosis", field="diagnoses"
        )
    return text


def validate_diagnoses(codes: Sequence[str]) -> tuple[str, ...]:
    """1 to 4 distinct ICD-10-CM codes, normalised, in the given order (the first is primary)."""
    if isinstance(codes, str):
        raise ValidationFailed("Diagnoses are a list of codes.", code="invalid_diagnosis", field="diagnoses")
    normalised = tuple(normalize_diagnosis(c) for c in codes)
    if not 1 <= len(normalised) <= MAX_DIAGNOSES:
        raise ValidationFailed(
            f"A charge carries 1 to {MAX_DIAGNOSES} diagnosis codes.", code="invalid_diagnosis", field="diagnoses"
        )
    if len(set(normalised)) != len(normalised):
        raise ValidationFailed("A diagnosis code is listed twice.", code="invalid_diagnosis", field="diagnoses")
    return normalised


def _validate_minutes(minutes: Mapping[Modality, int]) -> dict[Modality, int]:
    checked: dict[Modality, int] = {}
    for modality, value in minutes.items():
        if not isinstance(modality, Modality):
            raise ValidationFailed(f"Unknown modality {quoted(modality)}.", code="invalid_minutes", field="minutes")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SESSION_MINUTES:
            raise ValidationFailed(
                f"Connected minutes are whole numbers from 0 to {MAX_SESSION_MINUTES}.",
                code="invalid_minutes",
                field="minutes",
            )
        checked[modality] = value
    if sum(checked.values()) > MAX_SESSION_MINUTES:
        raise ValidationFailed("More connected minutes than a day holds.", code="invalid_minutes", field="minutes")
    return checked


def code_session(minutes: Mapping[Modality, int], *, at_home: bool, diagnoses: Sequence[str]) -> Coding:
    """The proposed coding of a completed session. Raises `ValidationFailed` (`invalid_minutes`,
    `invalid_diagnosis`)."""
    checked = _validate_minutes(minutes)
    return _code(checked, at_home=at_home, diagnoses=validate_diagnoses(diagnoses))


def code_session_without_diagnoses(minutes: Mapping[Modality, int], *, at_home: bool) -> Coding:
    """The proposed coding of a session completed before the therapist entered the client's diagnoses: every
    field but `diagnoses` (empty). The session is still charged; the therapist adds the diagnoses by override
    (which requires 1 to 4) before a superbill is useful to an insurer."""
    return _code(_validate_minutes(minutes), at_home=at_home, diagnoses=())


def _code(checked: Mapping[Modality, int], *, at_home: bool, diagnoses: tuple[str, ...]) -> Coding:
    voice = sum(checked.get(m, 0) for m in VOICE_MODALITIES)
    cpt, basis = cpt_for_minutes(voice)
    return Coding(
        cpt=cpt,
        modifier=telehealth_modifier(checked) if basis is CodingBasis.PSYCHOTHERAPY else None,
        place_of_service=place_of_service(at_home=at_home),
        diagnoses=diagnoses,
        basis=basis,
        psychotherapy_minutes=voice,
        chat_minutes=checked.get(Modality.CHAT, 0),
    )


# ---------------------------------------------------------------------------------------------- overrides


class Keep(Enum):
    """`KEEP` leaves a field as it is in `override_coding` (None is a value: "no modifier")."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _bad(detail: str, field: CodingField, code: str = "invalid_coding") -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field.value)


def _check_procedure(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper()
    if not _PROCEDURE.match(text):
        raise _bad(f"{quoted(value)} is not a CPT or HCPCS code such as '90834'.", CodingField.CPT)
    return text


def _check_modifier(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper()
    if text not in TELEHEALTH_MODIFIERS:
        allowed = ", ".join(sorted(TELEHEALTH_MODIFIERS))
        raise _bad(f"{quoted(value)} is not a telehealth modifier ({allowed}).", CodingField.MODIFIER)
    return text


def _check_pos(value: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _POS.match(text) or text == "00":
        raise _bad(f"{quoted(value)} is not a two-digit place of service such as '10'.", CodingField.PLACE_OF_SERVICE)
    return text


def check_reason(reason: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed("An override needs a reason.", code="reason_required", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            f"A reason is at most {MAX_REASON_LENGTH} characters.", code="invalid_reason", field="reason"
        )
    return text


def override_coding(
    coding: Coding,
    *,
    reason: str,
    by: uuid.UUID,
    at: datetime,
    cpt: str | Keep | None = KEEP,
    modifier: str | Keep | None = KEEP,
    place_of_service: str | Keep = KEEP,
    diagnoses: Sequence[str] | Keep = KEEP,
) -> tuple[Coding, tuple[CodingOverride, ...]]:
    """The coding with the given fields replaced, and one `CodingOverride` per field that really changed (also
    appended to `coding.overrides`). A reason is required (`reason_required`); values are validated
    (`invalid_coding`, `invalid_diagnosis`); a modifier needs a code; an override that changes nothing is
    `ValidationFailed(code="nothing_to_override")`."""
    why = check_reason(reason)
    when = ensure_utc(at, field="at")
    new_cpt = coding.cpt if cpt is KEEP else _check_procedure(cpt)
    new_modifier = coding.modifier if modifier is KEEP else _check_modifier(modifier)
    new_pos = coding.place_of_service if place_of_service is KEEP else _check_pos(place_of_service)
    new_diagnoses = coding.diagnoses if diagnoses is KEEP else validate_diagnoses(diagnoses)
    if new_cpt is None and new_modifier is not None:
        raise _bad("A modifier needs a procedure code.", CodingField.MODIFIER)

    changes: list[CodingOverride] = []

    def note(field: CodingField, old: str | None, new: str | None) -> None:
        if old != new:
            changes.append(CodingOverride(field, old, new, why, by, when))

    note(CodingField.CPT, coding.cpt, new_cpt)
    note(CodingField.MODIFIER, coding.modifier, new_modifier)
    note(CodingField.PLACE_OF_SERVICE, coding.place_of_service, new_pos)
    note(CodingField.DIAGNOSES, ",".join(coding.diagnoses), ",".join(new_diagnoses))
    if not changes:
        raise ValidationFailed("The override changes nothing.", code="nothing_to_override")
    records = tuple(changes)
    updated = replace(
        coding,
        cpt=new_cpt,
        modifier=new_modifier,
        place_of_service=new_pos,
        diagnoses=new_diagnoses,
        overrides=coding.overrides + records,
    )
    return updated, records
