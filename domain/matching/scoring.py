"""The match score, its human-readable reasons, and the top suggestions for one client.

A therapist who passes every hard rule (`rules.HARD_RULES`) gets a score: the sum of the parts below, each
worth at most its weight in `Weights` (the defaults add up to 100). Each part that earns points, and a few
facts worth knowing, come back as `Reason`s ("licensed in Ohio", "specializes in anxiety and grief", "6 open
times that fit your evenings").

* **specialty**: the share of the client's concerns the therapist's specialties cover, times the weight.
* **gender / faith / lgbtq**: the weight when the therapist fits the client's stated preference. A client with
  no such preference gives every therapist these points (and no reason), so a client's scores do not depend on
  how many preferences they stated: that keeps scores of different clients comparable in a batch assignment.
* **session_length**: the weight when the therapist offers the client's preferred length exactly.
* **insurance**: the weight when the therapist is in network with the client's insurer (names compared
  case-insensitively); clients paying themselves give everyone these points.
* **availability**: `weight * min(open, target) / target`, where `open` is the number of distinct sessions of
  the length the client would get that are free in the next `horizon_days` and fit the client's preferred
  days and times (`availability.fitting_sessions`, on the scheduling slot logic).
* **load**: `weight * (1 - caseload / capacity)`: a therapist with a lighter caseload scores higher, which
  spreads new clients across a practice.

Scores are rounded to 2 decimals. Suggestions are ordered by score, then by therapist id (stable).

`suggest` is exact but lazy: hard rules, the cheap parts and a cheap bound on availability
(`availability.hours_bound`: office hours shared with the preferred times, ignoring busy time) give upper
bounds, and real availability (the costly part: the scheduling slot search) is computed only for candidates
whose bound could still reach the top (a lazy top-k: see `suggest`). The answer is exactly the exhaustive one.
"""

from __future__ import annotations

import heapq
import math
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum

from domain.matching.availability import (
    OpenSlots,
    describe_times,
    fitting_sessions,
    hours_bound,
    open_slots,
    preferred_windows,
    window_bounds,
)
from domain.matching.candidates import Candidate, concerns_covered, session_length_for
from domain.matching.intake import Budget, GenderPreference, Insurance, Intake
from domain.matching.labels import format_money, join_words, language_name, plural, region_name
from domain.matching.rules import RuleFailure, first_failure
from domain.scheduling.localtime import ensure_utc
from domain.scheduling.slots import Slot
from domain.shared.errors import ValidationFailed

SUGGESTIONS = 3
NEXT_OPEN_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Weights:
    """How many points each part of the score can earn (see the module docstring). Defaults add up to 100:
    concerns matter most, then real availability, then caseload balance and the stated preferences."""

    specialty: float = 35.0
    availability: float = 25.0
    load: float = 10.0
    gender: float = 8.0
    insurance: float = 7.0
    faith: float = 5.0
    lgbtq: float = 5.0
    session_length: float = 5.0
    availability_target: int = 8  # this many fitting sessions in the horizon earn all availability points
    horizon_days: int = 14  # how far ahead open times are counted

    @property
    def maximum(self) -> float:
        return (
            self.specialty
            + self.availability
            + self.load
            + self.gender
            + self.insurance
            + self.faith
            + self.lgbtq
            + self.session_length
        )


DEFAULT_WEIGHTS = Weights()
MAX_WEIGHT = 1000.0
MAX_HORIZON_DAYS = 60


def validate_weights(weights: Weights) -> None:
    """Raise `ValidationFailed(code="invalid_weights")` naming the field."""
    for f in fields(weights):
        value = getattr(weights, f.name)
        if f.name in ("availability_target", "horizon_days"):
            top = MAX_HORIZON_DAYS if f.name == "horizon_days" else 1000
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise ValidationFailed(f"{f.name} is an integer from 1 to {top}.", code="invalid_weights", field=f.name)
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= MAX_WEIGHT
        ):
            raise ValidationFailed(
                f"{f.name} is a number from 0 to {MAX_WEIGHT:g}.", code="invalid_weights", field=f.name
            )


class ReasonKind(StrEnum):
    LICENSED = "licensed"
    SPECIALTY = "specialty"
    AVAILABILITY = "availability"
    MODALITY = "modality"
    LANGUAGE = "language"
    GENDER = "gender"
    FAITH = "faith"
    LGBTQ = "lgbtq"
    SESSION_LENGTH = "session_length"
    PRICE = "price"
    INSURANCE = "insurance"
    LOAD = "load"


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    text: str
    points: float  # what this part added to the score (0 for facts such as the licence)


@dataclass(frozen=True, slots=True)
class Match:
    therapist_id: uuid.UUID
    score: float
    reasons: tuple[Reason, ...]
    session_minutes: int  # the length the client would get (see `candidates.session_length_for`)
    open_times: int  # distinct fitting sessions in the horizon
    next_open: tuple[Slot, ...]  # the first few of them (UTC)

    @property
    def reason_texts(self) -> tuple[str, ...]:
        return tuple(r.text for r in self.reasons)


def ensure_matchable(client: Intake) -> None:
    if client.consent_to_match is not True:
        raise ValidationFailed("Matching needs your consent.", code="consent_required", field="consent_to_match")


# ---------------------------------------------------------------------------------------------- parts

SlotSource = Callable[[Candidate, int], OpenSlots]


@dataclass(frozen=True, slots=True)
class ClientView:
    """What scoring precomputes once per client (and per `now`)."""

    client: Intake
    now: datetime
    horizon: timedelta
    windows: tuple[tuple[int, int], ...]  # preferred windows in the horizon, POSIX seconds
    times_label: str
    payer: str | None


def client_view(client: Intake, now: datetime, weights: Weights = DEFAULT_WEIGHTS) -> ClientView:
    now = ensure_utc(now, field="now")
    horizon = timedelta(days=weights.horizon_days)
    payment = client.payment
    return ClientView(
        client=client,
        now=now,
        horizon=horizon,
        windows=window_bounds(preferred_windows(client, now, now + horizon)),
        times_label=describe_times(client),
        payer=payment.payer.casefold() if isinstance(payment, Insurance) else None,
    )


@dataclass(frozen=True, slots=True)
class _Static:
    """The cheap parts of a score (everything but availability)."""

    points: float
    minutes: int


def _static_points(view: ClientView, candidate: Candidate, weights: Weights) -> _Static:
    client = view.client
    profile = candidate.profile
    traits = candidate.traits
    covered = concerns_covered(profile.specialties)
    points = weights.specialty * sum(1 for c in client.concerns if c in covered) / len(client.concerns)
    wanted = client.therapist_gender
    if wanted is GenderPreference.NONE or (traits.gender is not None and traits.gender.value == wanted.value):
        points += weights.gender
    if not client.faith_based or traits.faith_based:
        points += weights.faith
    if not client.lgbtq_affirming or traits.lgbtq_affirming:
        points += weights.lgbtq
    minutes = session_length_for(profile, client.session_minutes)
    if minutes == client.session_minutes:
        points += weights.session_length
    if view.payer is None or any(p.casefold() == view.payer for p in traits.insurance_payers):
        points += weights.insurance
    points += weights.load * (1.0 - candidate.load)
    return _Static(points, minutes)


def _availability_points(open_times: int, weights: Weights) -> float:
    return weights.availability * min(open_times, weights.availability_target) / weights.availability_target


def _score(points: float) -> float:
    return round(points, 2)


def _explain(view: ClientView, candidate: Candidate, open_times: int, weights: Weights) -> tuple[Reason, ...]:
    client = view.client
    profile = candidate.profile
    traits = candidate.traits
    reasons = [Reason(ReasonKind.LICENSED, f"licensed in {region_name(client.residence)}", 0.0)]

    covered = concerns_covered(profile.specialties)
    matched = [c for c in client.concerns if c in covered]
    if matched:
        reasons.append(
            Reason(
                ReasonKind.SPECIALTY,
                f"specializes in {join_words([c.label for c in matched])}",
                weights.specialty * len(matched) / len(client.concerns),
            )
        )

    label = view.times_label
    days = view.horizon.days
    if open_times:
        where = f"that {'fits' if open_times == 1 else 'fit'} {label}" if label else f"in the next {days} days"
        text = f"{plural(open_times, 'open time', 'open times')} {where}"
    else:
        text = f"no open times that fit {label} in the next {days} days" if label else f"no open times in {days} days"
    reasons.append(Reason(ReasonKind.AVAILABILITY, text, _availability_points(open_times, weights)))

    shared = [m.value for m in client.modalities if m in profile.modalities]
    reasons.append(Reason(ReasonKind.MODALITY, f"offers {join_words(shared)} sessions", 0.0))
    reasons.append(Reason(ReasonKind.LANGUAGE, f"offers sessions in {language_name(client.language)}", 0.0))

    wanted = client.therapist_gender
    if wanted is not GenderPreference.NONE and traits.gender is not None and traits.gender.value == wanted.value:
        who = {"woman": "a woman", "man": "a man", "non_binary": "non-binary"}[wanted.value]
        reasons.append(Reason(ReasonKind.GENDER, f"is {who}, as you asked", weights.gender))
    if client.faith_based and traits.faith_based:
        reasons.append(Reason(ReasonKind.FAITH, "offers a faith-based approach", weights.faith))
    if client.lgbtq_affirming and traits.lgbtq_affirming:
        reasons.append(Reason(ReasonKind.LGBTQ, "is LGBTQ+-affirming", weights.lgbtq))

    minutes = session_length_for(profile, client.session_minutes)
    if minutes == client.session_minutes:
        reasons.append(Reason(ReasonKind.SESSION_LENGTH, f"offers {minutes}-minute sessions", weights.session_length))
    else:
        reasons.append(
            Reason(
                ReasonKind.SESSION_LENGTH,
                f"offers {minutes}-minute sessions (you asked for {client.session_minutes})",
                0.0,
            )
        )

    payment = client.payment
    if isinstance(payment, Budget):
        price = profile.rates[minutes]  # `within_budget` passed, so the rate exists in the budget's currency
        cost = format_money(price.amount_minor, price.currency)
        reasons.append(Reason(ReasonKind.PRICE, f"{cost} per {minutes}-minute session, within your budget", 0.0))
    elif isinstance(payment, Insurance):
        if view.payer is not None and any(p.casefold() == view.payer for p in traits.insurance_payers):
            reasons.append(Reason(ReasonKind.INSURANCE, f"in network with {payment.payer}", weights.insurance))
        else:
            reasons.append(Reason(ReasonKind.INSURANCE, f"not in network with {payment.payer}", 0.0))

    load_points = weights.load * (1.0 - candidate.load)
    if candidate.load < 0.5:
        reasons.append(Reason(ReasonKind.LOAD, "has plenty of room for new clients", load_points))
    return tuple(reasons)


def _count_open(
    view: ClientView, candidate: Candidate, minutes: int, slots: SlotSource | None, keep: int, stop_at: int | None
) -> tuple[int, tuple[Slot, ...]]:
    found = slots(candidate, minutes) if slots is not None else open_slots(candidate, minutes, view.now, view.horizon)
    return fitting_sessions(found, view.windows, keep=keep, stop_at=stop_at)


def score_eligible(
    view: ClientView,
    candidate: Candidate,
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    slots: SlotSource | None = None,
    explain: bool = True,
) -> Match:
    """The score of a candidate known to pass the hard rules. `explain=False` skips the reasons and the next
    open times, and stops counting open times at `weights.availability_target` (all the score needs)."""
    static = _static_points(view, candidate, weights)
    open_times, first = _count_open(
        view,
        candidate,
        static.minutes,
        slots,
        NEXT_OPEN_SHOWN if explain else 0,
        None if explain else weights.availability_target,
    )
    return Match(
        therapist_id=candidate.therapist_id,
        score=_score(static.points + _availability_points(open_times, weights)),
        reasons=_explain(view, candidate, open_times, weights) if explain else (),
        session_minutes=static.minutes,
        open_times=open_times,
        next_open=first,
    )


def evaluate(
    client: Intake, candidate: Candidate, *, now: datetime, weights: Weights = DEFAULT_WEIGHTS
) -> Match | RuleFailure:
    """One therapist for one client: the first hard rule failed, or the scored match with its reasons."""
    validate_weights(weights)
    failure = first_failure(client, candidate)
    if failure is not None:
        return failure
    return score_eligible(client_view(client, now, weights), candidate, weights)


def suggest(
    client: Intake,
    candidates: Iterable[Candidate],
    *,
    now: datetime,
    weights: Weights = DEFAULT_WEIGHTS,
    limit: int = SUGGESTIONS,
    exclude: Collection[uuid.UUID] = (),
) -> list[Match]:
    """The best `limit` therapists for `client` among those passing every hard rule, best first, each with its
    score and reasons. `exclude` leaves therapists out (the current one, when the client switches).

    Raises `ValidationFailed`: `consent_required`, `invalid_weights`, `invalid_limit`."""
    ensure_matchable(client)
    validate_weights(weights)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50:
        raise ValidationFailed("limit is 1 to 50.", code="invalid_limit", field="limit")
    view = client_view(client, now, weights)
    excluded = frozenset(exclude)

    # Lazy top-k over upper bounds that only get tighter: each entry is (-value, therapist id, level, ...), where
    # level 0 = cheap parts + the whole availability weight, 1 = cheap parts + `hours_bound`, 2 = exact score.
    # Popping the greatest entry either tightens it to the next level and pushes it back, or, at level 2, emits
    # it: every entry still queued is then worth at most as much (and on a tie has a higher id), so nothing
    # later can overtake it. The slot search (level 2) thus runs only for candidates that could still make it.
    queue: list[tuple[float, uuid.UUID, int, Candidate, Match | None]] = []
    seen: set[int] = set()
    residence = client.residence
    for candidate in candidates:
        # The licence test first, inline: it is `licensed_where_client_lives`, and it refuses most of a large pool
        # before anything else is computed. `first_failure` still applies every rule to the rest.
        if residence not in candidate.profile.licenses or first_failure(client, candidate) is not None:
            continue
        therapist_id = candidate.therapist_id
        if (excluded and therapist_id in excluded) or therapist_id.int in seen:
            continue
        seen.add(therapist_id.int)
        bound = _score(_static_points(view, candidate, weights).points + weights.availability)
        queue.append((-bound, therapist_id, 0, candidate, None))
    heapq.heapify(queue)

    found: list[Match] = []
    while queue and len(found) < limit:
        _, therapist_id, level, candidate, match = heapq.heappop(queue)
        if level == 0:
            static = _static_points(view, candidate, weights)
            most = hours_bound(candidate.office_hours, view.windows, static.minutes, view.now)
            reach = weights.availability if most is None else _availability_points(most, weights)
            heapq.heappush(queue, (-_score(static.points + reach), therapist_id, 1, candidate, None))
        elif level == 1:
            exact = score_eligible(view, candidate, weights)
            heapq.heappush(queue, (-exact.score, therapist_id, 2, candidate, exact))
        else:
            assert match is not None
            found.append(match)
    return found
