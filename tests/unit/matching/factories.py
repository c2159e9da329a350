"""Builders shared by the matching tests (unit and integration)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.matching.candidates import Candidate, TherapistGender, TherapistTraits
from domain.matching.intake import Budget, Concern, GenderPreference, Insurance, Intake, PriorTherapy
from domain.scheduling.model import Modality, Money, OfficeHours, TherapistProfile, TimeRange, WeeklyRule
from tests.unit.scheduling.factories import hm

# Monday 2026-05-04, 12:00 UTC (08:00 in New York, EDT). No DST change in the next 14 days.
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
NY = "America/New_York"
EVENINGS = (TimeRange(hm("17:00"), hm("21:00")),)


def tid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def intake(**overrides: Any) -> Intake:
    values: dict[str, Any] = {
        "concerns": (Concern.ANXIETY,),
        "prior_therapy": PriorTherapy.NEVER,
        "modalities": (Modality.VIDEO,),
        "session_minutes": 50,
        "language": "en",
        "residence": "US-OH",
        "timezone": NY,
        "consent_to_match": True,
    }
    values.update(overrides)
    return Intake(**values)


def weekdays(start: str, end: str, days: range = range(1, 6)) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(d, hm(start), hm(end)) for d in days)


def office(
    weekly: tuple[WeeklyRule, ...] | None = None, zone: str = NY, **settings: Any
) -> OfficeHours:  # 17:00-21:00 on weekdays by default
    return OfficeHours(timezone=zone, weekly=weekdays("17:00", "21:00") if weekly is None else weekly, **settings)


def therapist(
    n: int = 1,
    *,
    caseload: int = 0,
    traits: TherapistTraits | None = None,
    hours: OfficeHours | str | None = "default",
    busy: tuple[tuple[datetime, datetime], ...] = (),
    **profile: Any,
) -> Candidate:
    values: dict[str, Any] = {
        "therapist_id": tid(n),
        "display_name": f"Therapist {n}",
        "timezone": NY,
        "licenses": ("US-OH",),
        "specialties": ("Anxiety",),
        "languages": ("en",),
        "modalities": (Modality.VIDEO,),
        "session_lengths": (50,),
        "rates": {50: Money(12000, "USD")},
        "caseload_capacity": 20,
    }
    values.update(profile)
    return Candidate(
        profile=TherapistProfile(**values),
        caseload=caseload,
        traits=traits or TherapistTraits(),
        office_hours=office() if hours == "default" else hours,  # type: ignore[arg-type]
        busy=busy,
    )


# ---------------------------------------------------------------------------------------------- random pools

STATES = ("US-OH", "US-NY", "US-CA")
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
PATTERNS = (
    weekdays("09:00", "17:00"),
    weekdays("12:00", "20:00", range(1, 5)),
    (*weekdays("16:00", "21:00"), WeeklyRule(6, hm("09:00"), hm("13:00"))),
    weekdays("08:00", "12:00", range(2, 7)),
    (),
)
SPECIALTIES = ("Anxiety", "Depression", "PTSD", "Couples", "Grief", "Stress", "Addiction", "ADHD", "Career")


def random_therapist(rng: random.Random, n: int) -> Candidate:
    lengths = tuple(sorted(rng.sample([30, 45, 50, 60], rng.randint(1, 3))))
    zone = rng.choice(ZONES)
    hours = OfficeHours(
        timezone=zone,
        weekly=rng.choice(PATTERNS),
        buffer_minutes=rng.choice([0, 10]),
        max_sessions_per_day=rng.choice([None, 3]),
        min_notice_minutes=rng.choice([0, 120]),
    )
    busy = []
    for _ in range(rng.randint(0, 6)):
        start = NOW + timedelta(days=rng.randint(0, 13), hours=rng.randint(0, 23))
        busy.append((start, start + timedelta(minutes=50)))
    capacity = rng.randint(1, 6)
    return Candidate(
        profile=TherapistProfile(
            therapist_id=tid(n),
            display_name=f"T{n}",
            timezone=zone,
            licenses=tuple(rng.sample(STATES, rng.randint(1, 2))),
            specialties=tuple(rng.sample(SPECIALTIES, rng.randint(1, 4))),
            languages=("en",) if rng.random() < 0.8 else ("en", "es"),
            modalities=tuple(rng.sample(list(Modality), rng.randint(1, 3))),
            session_lengths=lengths,
            rates={m: Money(rng.randrange(6000, 20001, 1000), "USD") for m in lengths},
            accepting_new_clients=rng.random() < 0.9,
            caseload_capacity=capacity,
        ),
        caseload=rng.randint(0, capacity),
        traits=TherapistTraits(
            gender=rng.choice([*TherapistGender, None]),
            faith_based=rng.random() < 0.3,
            lgbtq_affirming=rng.random() < 0.5,
            insurance_payers=("Aetna",) if rng.random() < 0.5 else (),
        ),
        office_hours=hours if hours.weekly else rng.choice([hours, None]),
        busy=tuple(sorted(busy)),
    )


def random_intake(rng: random.Random) -> Intake:
    times = rng.choice([(), EVENINGS, (TimeRange(hm("08:00"), hm("12:00")),), (TimeRange(hm("12:00"), hm("15:00")),)])
    days = rng.choice([(), (1, 2, 3, 4, 5), (6, 7), (1, 3)])
    payment: Budget | Insurance | None = rng.choice(
        [None, Budget(rng.randrange(8000, 20001, 1000), "USD"), Insurance("Aetna")]
    )
    return intake(
        concerns=tuple(rng.sample([Concern.ANXIETY, Concern.TRAUMA, Concern.GRIEF, Concern.STRESS], rng.randint(1, 3))),
        modalities=tuple(rng.sample(list(Modality), rng.randint(1, 2))),
        session_minutes=rng.choice([30, 45, 50, 60]),
        language=rng.choice(["en", "en", "es"]),
        residence=rng.choice(STATES),
        timezone=rng.choice(ZONES),
        therapist_gender=rng.choice(list(GenderPreference)),
        faith_based=rng.random() < 0.2,
        lgbtq_affirming=rng.random() < 0.3,
        days=days,
        times=times,
        payment=payment,
    )
