"""Each hard rule alone: what fails it, what passes it, and that a failing therapist is never suggested nor
assigned, even when they would otherwise score best."""

from __future__ import annotations

import uuid

import pytest

from domain.matching.assignment import GreedyAssigner
from domain.matching.batch import QueuedClient, build_problem, plan_batch
from domain.matching.candidates import Candidate, TherapistTraits
from domain.matching.intake import Budget, Concern, Insurance, Intake
from domain.matching.rules import (
    HARD_RULES,
    RuleCode,
    failures,
    first_failure,
    has_room,
    is_eligible,
    licensed_where_client_lives,
    offers_modality,
    speaks_language,
    within_budget,
)
from domain.matching.scoring import evaluate, suggest
from domain.scheduling.model import Modality, Money
from tests.unit.matching.factories import NOW, intake, therapist

CLIENT = intake(
    concerns=(Concern.ANXIETY, Concern.GRIEF),
    modalities=(Modality.VIDEO, Modality.PHONE),
    language="es",
    payment=Budget(15000, "USD"),
)


def fine(n: int = 1, **changes: object) -> Candidate:
    """A therapist who passes every rule for CLIENT and fits them perfectly (the best score on offer)."""
    values: dict[str, object] = {
        "specialties": ("Anxiety", "Grief"),
        "languages": ("en", "es"),
        "modalities": (Modality.VIDEO,),
        "rates": {50: Money(15000, "USD")},
    }
    values.update(changes)
    return therapist(n, **values)  # type: ignore[arg-type]


def test_the_reference_therapist_passes_every_rule() -> None:
    assert failures(CLIENT, fine()) == []
    assert is_eligible(CLIENT, fine())


# ---------------------------------------------------------------------------------------------- licence


def test_licence_must_be_the_clients_state() -> None:
    failure = licensed_where_client_lives(CLIENT, fine(licenses=("US-NY", "US-PA")))
    assert failure is not None
    assert failure.code is RuleCode.NOT_LICENSED
    assert failure.reason == "not licensed in Ohio"
    assert licensed_where_client_lives(CLIENT, fine(licenses=("US-NY", "US-OH"))) is None


@pytest.mark.parametrize(("residence", "licences"), [("US-OH", ("US",)), ("US", ("US-OH",)), ("GB", ("GB-SCT",))])
def test_a_country_and_its_states_do_not_cover_each_other(residence: str, licences: tuple[str, ...]) -> None:
    failure = licensed_where_client_lives(intake(residence=residence), fine(licenses=licences))
    assert failure is not None and failure.code is RuleCode.NOT_LICENSED


def test_a_country_licence_covers_a_client_in_that_country() -> None:
    assert licensed_where_client_lives(intake(residence="GB"), fine(licenses=("GB",))) is None


# ---------------------------------------------------------------------------------------------- room


def test_not_accepting_new_clients_fails_even_with_room() -> None:
    failure = has_room(CLIENT, fine(accepting_new_clients=False, caseload=0))
    assert failure is not None and failure.code is RuleCode.NOT_ACCEPTING


@pytest.mark.parametrize(("caseload", "capacity"), [(20, 20), (25, 20), (0, 0)])
def test_full_caseload_fails(caseload: int, capacity: int) -> None:
    failure = has_room(CLIENT, fine(caseload=caseload, caseload_capacity=capacity))
    assert failure is not None
    assert failure.code is RuleCode.CASELOAD_FULL
    assert failure.reason == f"caseload is full ({caseload} of {capacity})"


def test_one_place_left_is_room() -> None:
    assert has_room(CLIENT, fine(caseload=19, caseload_capacity=20)) is None
    assert fine(caseload=19, caseload_capacity=20).room == 1


# ---------------------------------------------------------------------------------------------- language


def test_language_must_be_spoken() -> None:
    failure = speaks_language(CLIENT, fine(languages=("en", "fr")))
    assert failure is not None
    assert failure.code is RuleCode.LANGUAGE_NOT_SPOKEN
    assert failure.reason == "does not offer sessions in Spanish"


@pytest.mark.parametrize(("wanted", "spoken"), [("es", ("es-MX",)), ("es-MX", ("es",)), ("zh-Hant", ("zh-Hans",))])
def test_language_matches_on_the_primary_subtag(wanted: str, spoken: tuple[str, ...]) -> None:
    assert speaks_language(intake(language=wanted), fine(languages=spoken)) is None


# ---------------------------------------------------------------------------------------------- modality


def test_at_least_one_of_the_clients_modalities() -> None:
    failure = offers_modality(CLIENT, fine(modalities=(Modality.CHAT, Modality.AUDIO)))
    assert failure is not None
    assert failure.code is RuleCode.MODALITY_NOT_OFFERED
    assert failure.reason == "does not offer video or phone sessions"
    assert offers_modality(CLIENT, fine(modalities=(Modality.CHAT, Modality.PHONE))) is None


# ---------------------------------------------------------------------------------------------- budget


def test_over_budget_fails_and_says_by_how_much() -> None:
    failure = within_budget(CLIENT, fine(rates={50: Money(15001, "USD")}))
    assert failure is not None
    assert failure.code is RuleCode.OVER_BUDGET
    assert failure.reason == "a 50-minute session costs $150.01, over your budget of $150.00"


def test_exactly_the_budget_passes() -> None:
    assert within_budget(CLIENT, fine(rates={50: Money(15000, "USD")})) is None


def test_no_budget_no_price_rule() -> None:
    expensive = fine(rates={50: Money(99999, "USD")})
    assert within_budget(intake(payment=None), expensive) is None
    assert within_budget(intake(payment=Insurance("Aetna")), expensive) is None


def test_budget_uses_the_length_the_client_would_get() -> None:
    # The client wants 50 minutes; the therapist offers 45 and 60: the nearest is 45, so its price counts.
    candidate = fine(session_lengths=(45, 60), rates={45: Money(14000, "USD"), 60: Money(20000, "USD")})
    assert within_budget(CLIENT, candidate) is None
    pricier = fine(session_lengths=(45, 60), rates={45: Money(16000, "USD"), 60: Money(9000, "USD")})
    failure = within_budget(CLIENT, pricier)
    assert failure is not None and "45-minute" in failure.reason


def test_unpublished_price_and_other_currency_fail_when_there_is_a_budget() -> None:
    unknown = within_budget(CLIENT, fine(rates={}))
    assert unknown is not None and unknown.code is RuleCode.PRICE_UNKNOWN
    euros = within_budget(CLIENT, fine(rates={50: Money(100, "EUR")}))
    assert euros is not None and euros.code is RuleCode.CURRENCY_MISMATCH


# ---------------------------------------------------------------------------------------------- never suggested

FAILING: dict[str, Candidate] = {
    "unlicensed": fine(2, licenses=("US-NY",)),
    "full": fine(3, caseload=20, caseload_capacity=20),
    "not accepting": fine(4, accepting_new_clients=False),
    "wrong language": fine(5, languages=("en",)),
    "wrong modality": fine(6, modalities=(Modality.CHAT,)),
    "over budget": fine(7, rates={50: Money(20000, "USD")}),
    "no price": fine(8, rates={}),
}
EXPECTED_CODE = {
    "unlicensed": RuleCode.NOT_LICENSED,
    "full": RuleCode.CASELOAD_FULL,
    "not accepting": RuleCode.NOT_ACCEPTING,
    "wrong language": RuleCode.LANGUAGE_NOT_SPOKEN,
    "wrong modality": RuleCode.MODALITY_NOT_OFFERED,
    "over budget": RuleCode.OVER_BUDGET,
    "no price": RuleCode.PRICE_UNKNOWN,
}


@pytest.mark.parametrize("name", list(FAILING))
def test_each_failing_therapist_fails_exactly_its_rule(name: str) -> None:
    assert [f.code for f in failures(CLIENT, FAILING[name])] == [EXPECTED_CODE[name]]
    result = evaluate(CLIENT, FAILING[name], now=NOW)
    assert not hasattr(result, "score")
    assert first_failure(CLIENT, FAILING[name]) == result


@pytest.mark.parametrize("name", list(FAILING))
def test_a_failing_therapist_never_appears_even_as_the_only_one(name: str) -> None:
    bad = FAILING[name]
    assert suggest(CLIENT, [bad], now=NOW) == []
    # Even when the others score lower than the failing one would (they fit none of the concerns).
    others = [fine(20 + i, specialties=("Career",), caseload=15) for i in range(3)]
    found = suggest(CLIENT, [bad, *others], now=NOW)
    assert len(found) == 3
    assert bad.therapist_id not in {m.therapist_id for m in found}


@pytest.mark.parametrize("name", list(FAILING))
def test_a_failing_therapist_is_never_assigned(name: str) -> None:
    bad = FAILING[name]
    queue = [QueuedClient(uuid.UUID(int=100), CLIENT)]
    problem = build_problem(queue, [bad], now=NOW)
    assert problem.scores == ((None,),)
    plan = plan_batch(problem, GreedyAssigner())
    assert plan.placements[0].therapist_id is None
    assert plan.placements[0].why == ("no therapist with room fits your needs",)


def test_the_rules_are_the_five_of_the_issue_in_a_cheap_order() -> None:
    assert [r.__name__ for r in HARD_RULES] == [
        "licensed_where_client_lives",
        "has_room",
        "speaks_language",
        "offers_modality",
        "within_budget",
    ]


def test_all_failures_are_listed_for_an_admin() -> None:
    everything_wrong = fine(9, licenses=("US-NY",), languages=("fr",), modalities=(Modality.CHAT,), rates={})
    assert [f.code for f in failures(CLIENT, everything_wrong)] == [
        RuleCode.NOT_LICENSED,
        RuleCode.LANGUAGE_NOT_SPOKEN,
        RuleCode.MODALITY_NOT_OFFERED,
        RuleCode.PRICE_UNKNOWN,
    ]


def test_traits_never_make_a_rule_pass() -> None:
    perfect_traits = TherapistTraits(faith_based=True, lgbtq_affirming=True, insurance_payers=("Aetna",))
    unlicensed = fine(10, licenses=("US-NY",))
    candidate = Candidate(unlicensed.profile, 0, perfect_traits, unlicensed.office_hours)
    client: Intake = intake(payment=Insurance("Aetna"), faith_based=True, lgbtq_affirming=True)
    assert suggest(client, [candidate], now=NOW) == []


def test_every_rule_has_words_for_a_refused_choice_that_quote_nothing():
    from domain.matching.service import _NO_LONGER_FITS

    assert set(_NO_LONGER_FITS) == set(RuleCode)
    assert not any(ch.isdigit() for text in _NO_LONGER_FITS.values() for ch in text)
