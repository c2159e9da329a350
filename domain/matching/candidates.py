"""What matching knows about one therapist, and the small facts derived from it.

A `Candidate` bundles the scheduling profile (licences, specialties, languages, modalities, lengths, rates,
capacity) with what matching needs beyond it: the current caseload (active clients, counted by the caller),
`TherapistTraits` (gender, faith-based practice, LGBTQ+-affirming practice, insurers), and the office hours
and busy intervals that real availability is computed from.

Decisions:

* **Room** is `caseload_capacity - caseload` for a therapist accepting new clients, else 0.
* **The session a client would get** is their preferred length when the therapist offers it, else the
  therapist's nearest offered length (the shorter one on a tie). Price and availability use that length.
* **Specialties** are free text on the profile. They count for a concern when, lower-cased with spaces and
  hyphens as underscores, they are the concern's value or one of its aliases in `SPECIALTY_ALIASES`
  ("PTSD" counts for trauma, "Couples" for relationships).
* **Languages** match on the primary subtag: a client asking for "es" is served by "es-MX" and vice versa.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

from domain.matching.intake import Concern
from domain.matching.labels import primary_language
from domain.scheduling.model import OfficeHours, TherapistProfile


class TherapistGender(StrEnum):
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"


@dataclass(frozen=True, slots=True)
class TherapistTraits:
    """Matching attributes a therapist states about their practice (none is required)."""

    gender: TherapistGender | None = None
    faith_based: bool = False
    lgbtq_affirming: bool = False
    insurance_payers: tuple[str, ...] = ()  # insurers the therapist is in network with


NO_TRAITS = TherapistTraits()


@dataclass(frozen=True, slots=True)
class Candidate:
    profile: TherapistProfile
    caseload: int = 0  # active clients now
    traits: TherapistTraits = NO_TRAITS
    office_hours: OfficeHours | None = None  # None: no bookable hours, so no open times
    busy: Sequence[tuple[datetime, datetime]] = ()  # blocking appointments, as `slots.busy_intervals` builds

    @property
    def therapist_id(self) -> uuid.UUID:
        return self.profile.therapist_id

    @property
    def room(self) -> int:
        """How many more clients the therapist takes now."""
        if not self.profile.accepting_new_clients:
            return 0
        return max(0, self.profile.caseload_capacity - self.caseload)

    @property
    def load(self) -> float:
        """Caseload as a share of capacity, 0.0 (empty) to 1.0 (full); a capacity of 0 counts as full."""
        capacity = self.profile.caseload_capacity
        return 1.0 if capacity <= 0 else min(1.0, max(0, self.caseload) / capacity)


def session_length_for(profile: TherapistProfile, preferred: int) -> int:
    """`preferred` when offered, else the nearest offered length (the shorter on a tie)."""
    lengths = profile.session_lengths
    if preferred in lengths or not lengths:
        return preferred
    return min(lengths, key=lambda m: (abs(m - preferred), m))


def speaks(profile: TherapistProfile, language: str) -> bool:
    return _speaks(tuple(profile.languages), language)


@lru_cache(maxsize=4096)
def _speaks(languages: tuple[str, ...], language: str) -> bool:
    wanted = primary_language(language)
    return any(primary_language(tag) == wanted for tag in languages)


# ---------------------------------------------------------------------------------------------- specialties

SPECIALTY_ALIASES: Mapping[Concern, frozenset[str]] = MappingProxyType(
    {
        Concern.ANXIETY: frozenset({"anxiety_disorders", "panic", "panic_disorder", "phobias", "social_anxiety"}),
        Concern.DEPRESSION: frozenset({"mood_disorders", "low_mood"}),
        Concern.TRAUMA: frozenset({"ptsd", "trauma_and_ptsd", "complex_trauma", "abuse"}),
        Concern.RELATIONSHIPS: frozenset({"couples", "couples_therapy", "relationship_issues", "marriage"}),
        Concern.GRIEF: frozenset({"bereavement", "loss", "grief_and_loss"}),
        Concern.STRESS: frozenset({"stress_management", "burnout"}),
        Concern.SUBSTANCE_USE: frozenset({"addiction", "substance_abuse", "alcohol", "drug_use"}),
        Concern.FAMILY: frozenset({"family_conflict", "family_therapy"}),
        Concern.PARENTING: frozenset({"parents"}),
        Concern.SELF_ESTEEM: frozenset({"confidence"}),
        Concern.ANGER: frozenset({"anger_management"}),
        Concern.SLEEP: frozenset({"insomnia"}),
        Concern.EATING: frozenset({"eating_disorders"}),
        Concern.OCD: frozenset({"obsessive_compulsive_disorder"}),
        Concern.ADHD: frozenset({"attention_deficit"}),
        Concern.LIFE_TRANSITIONS: frozenset({"transitions", "life_changes"}),
        Concern.IDENTITY: frozenset({"lgbtq", "lgbtq+", "gender_identity", "sexuality", "sexual_identity"}),
        Concern.CHRONIC_ILLNESS: frozenset({"chronic_pain", "health_anxiety"}),
        Concern.WORK: frozenset({"career", "workplace"}),
    }
)
_BY_WORD: Mapping[str, Concern] = MappingProxyType(
    {
        **{alias: concern for concern, aliases in SPECIALTY_ALIASES.items() for alias in aliases},
        **{concern.value: concern for concern in Concern if concern is not Concern.OTHER},
    }
)


def _concern_of(specialty: str) -> Concern | None:
    key = "_".join(specialty.strip().casefold().replace("-", " ").split())
    return _BY_WORD.get(key)


def concerns_covered(specialties: Sequence[str]) -> frozenset[Concern]:
    """The concerns a therapist's free-text specialties count for."""
    return _concerns_covered(tuple(specialties))


@lru_cache(maxsize=16384)
def _concerns_covered(specialties: tuple[str, ...]) -> frozenset[Concern]:
    found = (_concern_of(s) for s in specialties)
    return frozenset(c for c in found if c is not None)
