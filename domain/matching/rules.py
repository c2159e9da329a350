"""Hard rules: a therapist who fails any of them is never suggested to the client nor assigned to them.

Each rule is a pure function `(client, candidate) -> RuleFailure | None`, `None` meaning passed. The failure
carries a stable `code` and a sentence for a practice admin ("not licensed in Ohio"). `HARD_RULES` lists them
cheapest and most selective first, so `first_failure` usually stops at the licence.

* `licensed_where_client_lives`: a licence whose code equals the client's residence exactly. A country-wide
  licence ("US") does not cover a state ("US-OH") and a state licence does not cover the country: licensure
  follows where the client is, and guessing here could put a client with an unlicensed therapist.
* `has_room`: accepting new clients, with caseload capacity left (`Candidate.room > 0`).
* `speaks_language`: the client's language, on the primary subtag.
* `offers_modality`: at least one of the client's modalities.
* `within_budget` (only when the client gave a budget): the therapist's rate for the session the client would
  get (`candidates.session_length_for`) is published, in the budget's currency, and at most the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from domain.matching.candidates import Candidate, session_length_for, speaks
from domain.matching.intake import Budget, Intake
from domain.matching.labels import format_money, join_words, language_name, region_name


class RuleCode(StrEnum):
    NOT_LICENSED = "not_licensed"
    NOT_ACCEPTING = "not_accepting_new_clients"
    CASELOAD_FULL = "caseload_full"
    LANGUAGE_NOT_SPOKEN = "language_not_spoken"
    MODALITY_NOT_OFFERED = "modality_not_offered"
    OVER_BUDGET = "over_budget"
    PRICE_UNKNOWN = "price_unknown"
    CURRENCY_MISMATCH = "currency_mismatch"


@dataclass(frozen=True, slots=True)
class RuleFailure:
    code: RuleCode
    reason: str


Rule = Callable[[Intake, Candidate], RuleFailure | None]


def licensed_where_client_lives(client: Intake, candidate: Candidate) -> RuleFailure | None:
    if client.residence in candidate.profile.licenses:
        return None
    return RuleFailure(RuleCode.NOT_LICENSED, f"not licensed in {region_name(client.residence)}")


def has_room(client: Intake, candidate: Candidate) -> RuleFailure | None:
    profile = candidate.profile
    if not profile.accepting_new_clients:
        return RuleFailure(RuleCode.NOT_ACCEPTING, "not accepting new clients")
    if candidate.room <= 0:
        return RuleFailure(
            RuleCode.CASELOAD_FULL, f"caseload is full ({candidate.caseload} of {profile.caseload_capacity})"
        )
    return None


def speaks_language(client: Intake, candidate: Candidate) -> RuleFailure | None:
    if speaks(candidate.profile, client.language):
        return None
    return RuleFailure(RuleCode.LANGUAGE_NOT_SPOKEN, f"does not offer sessions in {language_name(client.language)}")


def offers_modality(client: Intake, candidate: Candidate) -> RuleFailure | None:
    offered = candidate.profile.modalities
    if any(m in offered for m in client.modalities):
        return None
    wanted = join_words([m.value for m in client.modalities], "or")
    return RuleFailure(RuleCode.MODALITY_NOT_OFFERED, f"does not offer {wanted} sessions")


def within_budget(client: Intake, candidate: Candidate) -> RuleFailure | None:
    budget = client.payment
    if not isinstance(budget, Budget):
        return None
    minutes = session_length_for(candidate.profile, client.session_minutes)
    price = candidate.profile.rates.get(minutes)
    if price is None:
        return RuleFailure(RuleCode.PRICE_UNKNOWN, f"no published price for a {minutes}-minute session")
    if price.currency != budget.currency:
        return RuleFailure(
            RuleCode.CURRENCY_MISMATCH, f"prices are in {price.currency}, your budget is in {budget.currency}"
        )
    if price.amount_minor > budget.max_amount_minor:
        return RuleFailure(
            RuleCode.OVER_BUDGET,
            f"a {minutes}-minute session costs {format_money(price.amount_minor, price.currency)}, over your "
            f"budget of {format_money(budget.max_amount_minor, budget.currency)}",
        )
    return None


HARD_RULES: tuple[Rule, ...] = (
    licensed_where_client_lives,
    has_room,
    speaks_language,
    offers_modality,
    within_budget,
)


def first_failure(client: Intake, candidate: Candidate, rules: tuple[Rule, ...] = HARD_RULES) -> RuleFailure | None:
    """The first rule the candidate fails, or `None` when it passes them all."""
    for rule in rules:
        failure = rule(client, candidate)
        if failure is not None:
            return failure
    return None


def failures(client: Intake, candidate: Candidate, rules: tuple[Rule, ...] = HARD_RULES) -> list[RuleFailure]:
    """Every rule the candidate fails, in `rules` order (for an admin asking "why not this therapist?")."""
    return [f for f in (rule(client, candidate) for rule in rules) if f is not None]


def is_eligible(client: Intake, candidate: Candidate) -> bool:
    return first_failure(client, candidate) is None
