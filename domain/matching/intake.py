"""The intake questionnaire a new client answers before matching (format version 1).

`Intake` is a frozen value. `validate_intake` applies the business rules and raises `ValidationFailed` with a
stable code and the field; `to_dict` writes the JSON document the service encrypts, and `from_dict` reads exactly
that shape back (`from_dict(to_dict(x)) == x`, `to_dict(from_dict(d)) == d`), raising `DocumentError`
(`invalid_document`, with the path) for anything else, including another format version. `from_dict` checks the
shape only: a stored intake was validated when it was submitted.

Decisions:

* **Concerns** come from the fixed list `Concern` (at least one; `other` when none fits), in the client's order.
* **Times** are the client's own wall clock in `timezone`: `days` (ISO weekdays, Monday = 1) and `times`
  (ranges such as 17:00-21:00; an `end` of 00:00 means midnight at the end of the day). Empty `days` means any
  day, empty `times` any time of day.
* **Payment** is a `Budget` (the most the client pays for one session of their preferred length, in minor units
  of one currency), or an `Insurance` payer, or `None` (no constraint).
* **Residence** is where the client lives, as a licence code ("US-OH", "GB"): a therapist must be licensed there.
* **Consent**: a client who has not consented to be matched cannot submit (`consent_required`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from domain.plans import jsondoc as j
from domain.scheduling.localtime import load_zone
from domain.scheduling.model import Modality, TimeRange, validate_duration, validate_ranges
from domain.shared.errors import ValidationFailed, quoted
from domain.shared.iso import check_currency, is_location

INTAKE_VERSION = 1
MAX_PAYER_LENGTH = 100
MAX_BUDGET_MINOR = 10_000_000

REGION_PATTERN = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")  # the same shape as a therapist's licence
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class Concern(StrEnum):
    ANXIETY = "anxiety"
    DEPRESSION = "depression"
    TRAUMA = "trauma"
    RELATIONSHIPS = "relationships"
    GRIEF = "grief"
    STRESS = "stress"
    SUBSTANCE_USE = "substance_use"
    FAMILY = "family"
    PARENTING = "parenting"
    SELF_ESTEEM = "self_esteem"
    ANGER = "anger"
    SLEEP = "sleep"
    EATING = "eating"
    OCD = "ocd"
    ADHD = "adhd"
    LIFE_TRANSITIONS = "life_transitions"
    IDENTITY = "identity"
    CHRONIC_ILLNESS = "chronic_illness"
    WORK = "work"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _CONCERN_LABELS.get(self, self.value.replace("_", " "))


_CONCERN_LABELS = {Concern.OCD: "OCD", Concern.ADHD: "ADHD", Concern.IDENTITY: "identity and sexuality"}


class PriorTherapy(StrEnum):
    NEVER = "never"
    PAST = "past"
    CURRENT = "current"


class GenderPreference(StrEnum):
    NONE = "no_preference"
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"


@dataclass(frozen=True, slots=True)
class Budget:
    """The most the client pays for one session of their preferred length, in the currency's minor units."""

    max_amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Insurance:
    """The client pays through this insurer (its name as the client gave it)."""

    payer: str


Payment = Budget | Insurance | None


@dataclass(frozen=True, slots=True)
class Intake:
    concerns: tuple[Concern, ...]
    prior_therapy: PriorTherapy
    modalities: tuple[Modality, ...]
    session_minutes: int
    language: str  # BCP 47; matched on the primary subtag ("es-MX" is served by a therapist listing "es")
    residence: str  # "US-OH", "GB"
    timezone: str  # the client's IANA zone: `days` and `times` are read in it
    consent_to_match: bool
    therapist_gender: GenderPreference = GenderPreference.NONE
    faith_based: bool = False  # wants a faith-based approach
    lgbtq_affirming: bool = False  # wants an LGBTQ+-affirming therapist
    days: tuple[int, ...] = ()  # ISO weekdays; empty = any day
    times: tuple[TimeRange, ...] = ()  # local ranges; empty = any time of day
    payment: Payment = None

    def to_dict(self) -> dict[str, object]:
        return {
            "v": INTAKE_VERSION,
            "concerns": [c.value for c in self.concerns],
            "prior_therapy": self.prior_therapy.value,
            "modalities": [m.value for m in self.modalities],
            "session_minutes": self.session_minutes,
            "language": self.language,
            "residence": self.residence,
            "timezone": self.timezone,
            "consent_to_match": self.consent_to_match,
            "therapist_gender": self.therapist_gender.value,
            "faith_based": self.faith_based,
            "lgbtq_affirming": self.lgbtq_affirming,
            "days": list(self.days),
            "times": [{"start": _dump_wall(r.start), "end": _dump_wall(r.end)} for r in self.times],
            "payment": _dump_payment(self.payment),
        }

    @classmethod
    def from_dict(cls, data: object) -> Intake:
        d = j.versioned(data, "", _KEYS, version=INTAKE_VERSION)
        return cls(
            concerns=tuple(j.choice(v, Concern, j.join("concerns", i)) for i, v in _items(d, "concerns")),
            prior_therapy=j.choice(d["prior_therapy"], PriorTherapy, "prior_therapy"),
            modalities=tuple(j.choice(v, Modality, j.join("modalities", i)) for i, v in _items(d, "modalities")),
            session_minutes=j.integer(d["session_minutes"], "session_minutes"),
            language=j.string(d["language"], "language"),
            residence=j.string(d["residence"], "residence"),
            timezone=j.string(d["timezone"], "timezone"),
            consent_to_match=_boolean(d["consent_to_match"], "consent_to_match"),
            therapist_gender=j.choice(d["therapist_gender"], GenderPreference, "therapist_gender"),
            faith_based=_boolean(d["faith_based"], "faith_based"),
            lgbtq_affirming=_boolean(d["lgbtq_affirming"], "lgbtq_affirming"),
            days=tuple(j.integer(v, j.join("days", i)) for i, v in _items(d, "days")),
            times=tuple(_load_range(v, j.join("times", i)) for i, v in _items(d, "times")),
            payment=_load_payment(d["payment"], "payment"),
        )


_KEYS = (
    "concerns",
    "prior_therapy",
    "modalities",
    "session_minutes",
    "language",
    "residence",
    "timezone",
    "consent_to_match",
    "therapist_gender",
    "faith_based",
    "lgbtq_affirming",
    "days",
    "times",
    "payment",
)


# ---------------------------------------------------------------------------------------------- validation


def _bad(detail: str, code: str, field: str) -> ValidationFailed:
    return ValidationFailed(detail, code=code, field=field)


def validate_intake(intake: Intake) -> None:
    """Raise `ValidationFailed` with the field and one of these codes: `invalid_concerns`,
    `invalid_prior_therapy`, `invalid_modalities`, `invalid_duration`, `invalid_language`, `invalid_residence`,
    `invalid_timezone`, `invalid_gender_preference`, `invalid_preference`, `invalid_days`, `invalid_times`,
    `invalid_budget`, `invalid_insurance`, `consent_required`."""
    concerns = intake.concerns
    if not concerns or not all(isinstance(c, Concern) for c in concerns) or len(set(concerns)) != len(concerns):
        raise _bad("Choose at least one concern from the list, each once.", "invalid_concerns", "concerns")
    if not isinstance(intake.prior_therapy, PriorTherapy):
        raise _bad("prior_therapy is never, past or current.", "invalid_prior_therapy", "prior_therapy")
    modalities = intake.modalities
    if (
        not modalities
        or not all(isinstance(m, Modality) for m in modalities)
        or len(set(modalities)) != len(modalities)
    ):
        raise _bad("Choose at least one way to meet, each once.", "invalid_modalities", "modalities")
    validate_duration(intake.session_minutes, field="session_minutes")
    if not isinstance(intake.language, str) or not LANGUAGE_PATTERN.match(intake.language):
        raise _bad(f"Language {quoted(intake.language)} is not a tag such as 'en'.", "invalid_language", "language")
    residence = intake.residence
    if not isinstance(residence, str) or not REGION_PATTERN.match(residence) or not is_location(residence):
        raise _bad(
            f"Residence {quoted(intake.residence)} is not a code such as 'US-OH' or 'GB'.",
            "invalid_residence",
            "residence",
        )
    load_zone(intake.timezone)
    if not isinstance(intake.therapist_gender, GenderPreference):
        raise _bad("Unknown gender preference.", "invalid_gender_preference", "therapist_gender")
    for name in ("faith_based", "lgbtq_affirming", "consent_to_match"):
        if not isinstance(getattr(intake, name), bool):
            raise _bad(f"{name} is true or false.", "invalid_preference", name)
    days = intake.days
    if any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days) or list(days) != sorted(
        set(days)
    ):
        raise _bad("days are ISO weekdays (Monday = 1 ... Sunday = 7), ascending, each once.", "invalid_days", "days")
    _validate_times(intake.times)
    _validate_payment(intake.payment)
    if intake.consent_to_match is not True:
        raise _bad("Matching needs your consent.", "consent_required", "consent_to_match")


def _validate_times(times: tuple[TimeRange, ...]) -> None:
    if not all(isinstance(r, TimeRange) for r in times):
        raise _bad("times are ranges of local time.", "invalid_times", "times")
    try:
        validate_ranges(times, field="times")
    except ValidationFailed as exc:
        raise _bad(exc.detail, "invalid_times", "times") from None
    if list(times) != sorted(times, key=lambda r: r.start):
        raise _bad("times are in order of their start.", "invalid_times", "times")


def _validate_payment(payment: Payment) -> None:
    if payment is None:
        return
    if isinstance(payment, Budget):
        amount = payment.max_amount_minor
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_BUDGET_MINOR:
            raise _bad(
                f"A budget is 0 to {MAX_BUDGET_MINOR} in minor units.", "invalid_budget", "payment.max_amount_minor"
            )
        check_currency(payment.currency, field="payment.currency")
        return
    if isinstance(payment, Insurance):
        payer = payment.payer
        if not isinstance(payer, str) or not payer.strip() or payer != payer.strip() or len(payer) > MAX_PAYER_LENGTH:
            raise _bad(
                f"The insurer's name is 1 to {MAX_PAYER_LENGTH} characters without surrounding spaces.",
                "invalid_insurance",
                "payment.payer",
            )
        return
    raise _bad("payment is a budget, an insurer or nothing.", "invalid_budget", "payment")


# ---------------------------------------------------------------------------------------------- JSON


def _items(d: Mapping[str, object], key: str) -> list[tuple[int, object]]:
    return list(enumerate(j.array(d[key], key)))


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise j.DocumentError(f"expected true or false, got {type(value).__name__}", path=path)
    return value


def _dump_wall(wall: time) -> str:
    return f"{wall.hour:02d}:{wall.minute:02d}"


def _load_wall(value: object, path: str) -> time:
    text = j.string(value, path)
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or _dump_wall(parsed) != text or parsed.second or parsed.microsecond or parsed.tzinfo:
        raise j.DocumentError(f"{quoted(text)} is not a local time as HH:MM", path=path)
    return parsed


def _load_range(value: object, path: str) -> TimeRange:
    d = j.obj(value, path, ("start", "end"))
    return TimeRange(_load_wall(d["start"], j.join(path, "start")), _load_wall(d["end"], j.join(path, "end")))


def _dump_payment(payment: Payment) -> dict[str, object] | None:
    if isinstance(payment, Budget):
        return {"kind": "budget", "max_amount_minor": payment.max_amount_minor, "currency": payment.currency}
    if isinstance(payment, Insurance):
        return {"kind": "insurance", "payer": payment.payer}
    return None


def _load_payment(value: object, path: str) -> Payment:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise j.DocumentError(f"expected an object or null, got {type(value).__name__}", path=path)
    if "kind" not in value:
        raise j.DocumentError("missing key(s) kind", path=path)
    kind = j.string(value["kind"], j.join(path, "kind"))
    if kind not in _PAYMENT_KEYS:
        raise j.DocumentError(f"{quoted(kind)} is not one of {', '.join(_PAYMENT_KEYS)}", path=j.join(path, "kind"))
    d = j.obj(value, path, _PAYMENT_KEYS[kind])
    if kind == "budget":
        return Budget(
            max_amount_minor=j.integer(d["max_amount_minor"], j.join(path, "max_amount_minor")),
            currency=j.string(d["currency"], j.join(path, "currency")),
        )
    return Insurance(payer=j.string(d["payer"], j.join(path, "payer")))


_PAYMENT_KEYS = {"budget": ("kind", "max_amount_minor", "currency"), "insurance": ("kind", "payer")}
