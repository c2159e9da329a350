from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.matching.candidates import Candidate, TherapistGender, TherapistTraits, concerns_covered, session_length_for
from domain.matching.intake import Budget, Concern, GenderPreference, Insurance, Intake
from domain.matching.scoring import (
    DEFAULT_WEIGHTS,
    Match,
    ReasonKind,
    Weights,
    evaluate,
    suggest,
    validate_weights,
)
from domain.scheduling.model import Money, WeeklyRule
from domain.shared.errors import ValidationFailed
from tests.unit.matching.factories import (
    EVENINGS,
    NOW,
    intake,
    office,
    random_intake,
    random_therapist,
    therapist,
    tid,
)
from tests.unit.scheduling.factories import hm

# Wednesdays 17:00-20:00: three 50-minute sessions a week, six in the next 14 days.
WEDNESDAY_EVENINGS = office((WeeklyRule(3, hm("17:00"), hm("20:00")),))
CLIENT = intake(concerns=(Concern.ANXIETY, Concern.GRIEF), times=EVENINGS)


def scored(client: Intake = CLIENT, candidate: Candidate | None = None, weights: Weights = DEFAULT_WEIGHTS) -> Match:
    result = evaluate(client, candidate or therapist(hours=WEDNESDAY_EVENINGS), now=NOW, weights=weights)
    assert isinstance(result, Match)
    return result


def reason(match: Match, kind: ReasonKind) -> str | None:
    texts = [r.text for r in match.reasons if r.kind is kind]
    return texts[0] if texts else None


# ---------------------------------------------------------------------------------------------- reasons


def test_the_reasons_of_the_issue() -> None:
    match = scored(candidate=therapist(specialties=("Anxiety", "Grief and loss"), hours=WEDNESDAY_EVENINGS))
    assert match.reason_texts[:3] == (
        "licensed in Ohio",
        "specializes in anxiety and grief",
        "6 open times that fit your evenings",
    )
    assert match.open_times == 6
    assert [s.start for s in match.next_open] == [
        datetime(2026, 5, 6, 21, tzinfo=UTC),
        datetime(2026, 5, 6, 22, tzinfo=UTC),
        datetime(2026, 5, 6, 23, tzinfo=UTC),
    ]


def test_score_is_the_sum_of_the_documented_parts() -> None:
    match = scored(candidate=therapist(specialties=("Anxiety", "Grief"), caseload=5, hours=WEDNESDAY_EVENINGS))
    # specialty 35 (2 of 2) + availability 25 * 6/8 + load 10 * (1 - 5/20) + gender 8, insurance 7, faith 5,
    # lgbtq 5 (no preference stated: full points) + session length 5 (50 offered).
    assert match.score == 35 + 18.75 + 7.5 + 8 + 7 + 5 + 5 + 5
    assert sum(r.points for r in match.reasons) + 8 + 7 + 5 + 5 == pytest.approx(match.score)


def test_defaults_add_up_to_one_hundred() -> None:
    assert DEFAULT_WEIGHTS.maximum == 100


def test_partial_specialty_match_scores_the_share() -> None:
    match = scored(candidate=therapist(specialties=("Anxiety",), hours=WEDNESDAY_EVENINGS))
    assert reason(match, ReasonKind.SPECIALTY) == "specializes in anxiety"
    assert [r.points for r in match.reasons if r.kind is ReasonKind.SPECIALTY] == [17.5]
    none = scored(candidate=therapist(specialties=("Career",), hours=WEDNESDAY_EVENINGS))
    assert reason(none, ReasonKind.SPECIALTY) is None
    assert none.score == match.score - 17.5


def test_specialty_aliases_count() -> None:
    assert concerns_covered(("PTSD", "Couples", "Substance-abuse", "Grief and loss", "LGBTQ+")) == {
        Concern.TRAUMA,
        Concern.RELATIONSHIPS,
        Concern.SUBSTANCE_USE,
        Concern.GRIEF,
        Concern.IDENTITY,
    }
    assert concerns_covered(("Mindfulness", "Other")) == frozenset()


def test_no_open_times_is_said_and_scores_nothing() -> None:
    match = scored(candidate=therapist(hours=office((WeeklyRule(3, hm("09:00"), hm("12:00")),))))
    assert reason(match, ReasonKind.AVAILABILITY) == "no open times that fit your evenings in the next 14 days"
    assert [r.points for r in match.reasons if r.kind is ReasonKind.AVAILABILITY] == [0]


def test_availability_without_time_preferences() -> None:
    match = scored(client=intake(), candidate=therapist(hours=WEDNESDAY_EVENINGS))
    assert reason(match, ReasonKind.AVAILABILITY) == "6 open times in the next 14 days"
    one = scored(client=intake(), candidate=therapist(hours=office((WeeklyRule(3, hm("17:00"), hm("17:50")),))))
    assert reason(one, ReasonKind.AVAILABILITY) == "2 open times in the next 14 days"


def test_more_open_times_score_higher_up_to_the_target() -> None:
    few = scored(candidate=therapist(hours=WEDNESDAY_EVENINGS))  # 6
    many = scored(candidate=therapist(hours=office()))  # 40, above the target of 8
    assert many.open_times == 40
    assert many.score - few.score == pytest.approx(25 * 2 / 8)


def test_lower_caseload_scores_higher() -> None:
    light = scored(candidate=therapist(caseload=2))
    heavy = scored(candidate=therapist(caseload=18))
    assert light.score > heavy.score
    assert light.score - heavy.score == pytest.approx(10 * 16 / 20)
    assert reason(light, ReasonKind.LOAD) == "has plenty of room for new clients"
    assert reason(heavy, ReasonKind.LOAD) is None


def test_modality_and_language_are_stated() -> None:
    match = scored(client=intake(language="es"), candidate=therapist(languages=("es-MX",)))
    assert reason(match, ReasonKind.MODALITY) == "offers video sessions"
    assert reason(match, ReasonKind.LANGUAGE) == "offers sessions in Spanish"


# ---------------------------------------------------------------------------------------------- preferences


@pytest.mark.parametrize(
    ("wanted", "gender", "fits"),
    [
        (GenderPreference.WOMAN, TherapistGender.WOMAN, True),
        (GenderPreference.WOMAN, TherapistGender.MAN, False),
        (GenderPreference.NON_BINARY, TherapistGender.NON_BINARY, True),
        (GenderPreference.MAN, None, False),
    ],
)
def test_gender_preference(wanted: GenderPreference, gender: TherapistGender | None, fits: bool) -> None:
    client = intake(therapist_gender=wanted)
    match = scored(client, therapist(traits=TherapistTraits(gender=gender)))
    baseline = scored(intake(), therapist(traits=TherapistTraits(gender=gender)))
    assert match.score == (baseline.score if fits else baseline.score - 8)
    assert (reason(match, ReasonKind.GENDER) is not None) is fits
    if wanted is GenderPreference.WOMAN and fits:
        assert reason(match, ReasonKind.GENDER) == "is a woman, as you asked"


def test_faith_and_lgbtq_preferences() -> None:
    client = intake(faith_based=True, lgbtq_affirming=True)
    both = scored(client, therapist(traits=TherapistTraits(faith_based=True, lgbtq_affirming=True)))
    neither = scored(client, therapist())
    assert both.score - neither.score == 10
    assert reason(both, ReasonKind.FAITH) == "offers a faith-based approach"
    assert reason(both, ReasonKind.LGBTQ) == "is LGBTQ+-affirming"
    assert reason(neither, ReasonKind.FAITH) is None
    # A client without these preferences gives every therapist the points.
    assert (
        scored(intake(), therapist()).score
        == scored(intake(), therapist(traits=TherapistTraits(faith_based=True))).score
    )


def test_session_length_preference() -> None:
    offered = scored(candidate=therapist(session_lengths=(50,)))
    other = scored(
        candidate=therapist(session_lengths=(45, 60), rates={45: Money(1, "USD"), 60: Money(1, "USD")}),
    )
    assert reason(offered, ReasonKind.SESSION_LENGTH) == "offers 50-minute sessions"
    assert reason(other, ReasonKind.SESSION_LENGTH) == "offers 45-minute sessions (you asked for 50)"
    assert other.session_minutes == 45
    assert session_length_for(therapist(session_lengths=(40, 60)).profile, 50) == 40  # a tie goes to the shorter


def test_insurance_in_network_case_insensitively() -> None:
    client = intake(payment=Insurance("Aetna"))
    inside = scored(client, therapist(traits=TherapistTraits(insurance_payers=("AETNA", "Cigna"))))
    outside = scored(client, therapist(traits=TherapistTraits(insurance_payers=("Cigna",))))
    assert inside.score - outside.score == 7
    assert reason(inside, ReasonKind.INSURANCE) == "in network with Aetna"
    assert reason(outside, ReasonKind.INSURANCE) == "not in network with Aetna"


def test_budget_shows_the_price() -> None:
    match = scored(intake(payment=Budget(15000, "USD")), therapist(rates={50: Money(12000, "USD")}))
    assert reason(match, ReasonKind.PRICE) == "$120.00 per 50-minute session, within your budget"


# ---------------------------------------------------------------------------------------------- suggestions


def test_top_three_in_score_order() -> None:
    pool = [therapist(n, caseload=n) for n in range(1, 8)]  # lighter caseload scores higher
    found = suggest(CLIENT, pool, now=NOW)
    assert [m.therapist_id for m in found] == [tid(1), tid(2), tid(3)]
    assert found[0].score > found[1].score > found[2].score
    assert all(m.reasons for m in found)


def test_ties_are_broken_by_therapist_id() -> None:
    pool = [therapist(n) for n in (9, 4, 7, 5)]
    assert [m.therapist_id for m in suggest(CLIENT, pool, now=NOW)] == [tid(4), tid(5), tid(7)]


def test_fewer_than_three_when_few_fit() -> None:
    assert [m.therapist_id for m in suggest(CLIENT, [therapist(1), therapist(2, licenses=("US-NY",))], now=NOW)] == [
        tid(1)
    ]
    assert suggest(CLIENT, [], now=NOW) == []


def test_exclude_and_limit() -> None:
    pool = [therapist(n, caseload=n) for n in range(1, 8)]
    assert [m.therapist_id for m in suggest(CLIENT, pool, now=NOW, exclude={tid(1)})] == [tid(2), tid(3), tid(4)]
    assert len(suggest(CLIENT, pool, now=NOW, limit=5)) == 5
    with pytest.raises(ValidationFailed) as err:
        suggest(CLIENT, pool, now=NOW, limit=0)
    assert err.value.code == "invalid_limit"


def test_a_therapist_listed_twice_is_suggested_once() -> None:
    assert len(suggest(CLIENT, [therapist(1), therapist(1), therapist(2)], now=NOW)) == 2


def test_weights_change_the_order() -> None:
    available = therapist(1, caseload=15, hours=office())  # 40 open times, heavier caseload
    light = therapist(2, caseload=0, hours=WEDNESDAY_EVENINGS)  # 6 open times, empty caseload
    assert suggest(CLIENT, [available, light], now=NOW)[0].therapist_id == tid(2)
    availability_first = Weights(availability=60, load=1)
    assert suggest(CLIENT, [available, light], now=NOW, weights=availability_first)[0].therapist_id == tid(1)


def test_consent_is_required() -> None:
    with pytest.raises(ValidationFailed) as err:
        suggest(intake(consent_to_match=False), [therapist()], now=NOW)
    assert err.value.code == "consent_required"


@pytest.mark.parametrize(
    "changes",
    [{"specialty": -1.0}, {"load": float("nan")}, {"gender": 1e9}, {"availability_target": 0}, {"horizon_days": 61}],
)
def test_invalid_weights(changes: dict[str, Any]) -> None:
    weights = dataclasses.replace(DEFAULT_WEIGHTS, **changes)
    with pytest.raises(ValidationFailed) as err:
        validate_weights(weights)
    assert err.value.code == "invalid_weights"
    assert err.value.field == next(iter(changes))


@pytest.mark.parametrize(
    "now",
    [NOW, datetime(2026, 10, 27, 15, tzinfo=UTC), datetime(2026, 3, 2, 3, tzinfo=UTC)],  # the last two cross DST
    ids=["may", "before-fall-back", "before-spring-forward"],
)
@pytest.mark.parametrize("seed", range(4))
def test_lazy_suggestions_equal_scoring_everyone(now: datetime, seed: int) -> None:
    """`suggest` skips the slot search for most candidates; its answer must be the exhaustive one."""
    rng = random.Random(seed)
    pool = [random_therapist(rng, n) for n in range(80)]
    for _ in range(12):
        client = random_intake(rng)
        everyone = [m for c in pool if isinstance(m := evaluate(client, c, now=now), Match)]
        everyone.sort(key=lambda m: (-m.score, m.therapist_id))
        found = suggest(client, pool, now=now)
        assert [(m.therapist_id, m.score) for m in found] == [(m.therapist_id, m.score) for m in everyone[:3]]
        assert found == everyone[:3]
