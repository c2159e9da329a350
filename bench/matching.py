"""Matching: suggestions for one client against 10,000 therapists, and batch assignment of 2,000 waiting
clients to 500 therapists (optimal versus greedy).

Run on demand (not a test):  .venv/bin/python bench/matching.py [--queries 300] [--seed 7]

Everything is in memory (the domain functions and the SciPy adapter, no database), on synthetic data shaped
like a US platform: licences by state population, six office-hours patterns in the therapist's zone with
buffers, daily limits and notice, busy time from the current caseload's weekly sessions, rates, languages,
modalities, traits; clients with concerns, preferred days and times in their own zone, budgets or insurers.
Targets (issue 7): suggestions p99 <= 200 ms including the availability check; batch <= 30 s. The exit status
is 1 when a target is missed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from typing import TypeVar

from domain.matching.assignment import GreedyAssigner, verify_assignment
from domain.matching.batch import BatchProblem, QueuedClient, build_problem, plan_batch
from domain.matching.candidates import Candidate, TherapistGender, TherapistTraits
from domain.matching.intake import Budget, Concern, GenderPreference, Insurance, Intake, PriorTherapy
from domain.matching.rules import is_eligible
from domain.matching.scoring import suggest
from domain.scheduling.model import Modality, Money, OfficeHours, TherapistProfile, TimeRange, WeeklyRule
from domain.scheduling.slots import working_intervals
from infra.matching.assignment import ScipyAssigner

SUGGEST_P99_TARGET_MS = 200.0
BATCH_TARGET_S = 30.0
NOW = datetime(2026, 5, 4, 13, 7, tzinfo=UTC)  # a Monday morning in the US

# State -> (population share in %, zone). The 20 largest states, then the rest share the remainder.
STATES: dict[str, tuple[float, str]] = {
    "US-CA": (11.7, "America/Los_Angeles"), "US-TX": (9.0, "America/Chicago"), "US-FL": (6.7, "America/New_York"),
    "US-NY": (5.9, "America/New_York"), "US-PA": (3.9, "America/New_York"), "US-IL": (3.8, "America/Chicago"),
    "US-OH": (3.5, "America/New_York"), "US-GA": (3.3, "America/New_York"), "US-NC": (3.2, "America/New_York"),
    "US-MI": (3.0, "America/Detroit"), "US-NJ": (2.8, "America/New_York"), "US-VA": (2.6, "America/New_York"),
    "US-WA": (2.3, "America/Los_Angeles"), "US-AZ": (2.2, "America/Phoenix"), "US-TN": (2.1, "America/Chicago"),
    "US-MA": (2.1, "America/New_York"), "US-IN": (2.0, "America/Indiana/Indianapolis"),
    "US-MD": (1.8, "America/New_York"), "US-MO": (1.8, "America/Chicago"), "US-CO": (1.8, "America/Denver"),
}  # fmt: skip
_REST = ["US-WI", "US-MN", "US-SC", "US-AL", "US-LA", "US-KY", "US-OR", "US-OK", "US-CT", "US-UT", "US-IA",
         "US-NV", "US-AR", "US-MS", "US-KS", "US-NM", "US-NE", "US-ID", "US-WV", "US-HI", "US-NH", "US-ME",
         "US-RI", "US-MT", "US-DE", "US-SD", "US-ND", "US-AK", "US-DC", "US-VT", "US-WY"]  # fmt: skip
_REST_ZONE = {"US-OR": "America/Los_Angeles", "US-NV": "America/Los_Angeles", "US-UT": "America/Denver",
              "US-NM": "America/Denver", "US-ID": "America/Boise", "US-MT": "America/Denver",
              "US-HI": "Pacific/Honolulu", "US-AK": "America/Anchorage", "US-WY": "America/Denver"}  # fmt: skip
for _code in _REST:
    STATES[_code] = ((100 - sum(s for s, _ in STATES.values())) / len(_REST), _REST_ZONE.get(_code, "America/Chicago"))
STATE_CODES = list(STATES)
STATE_WEIGHTS = [STATES[c][0] for c in STATE_CODES]

SPECIALTIES = ["Anxiety", "Depression", "PTSD", "Trauma", "Couples", "Relationships", "Grief and loss", "Stress",
               "Burnout", "Addiction", "Substance use", "Family", "Parenting", "Self-esteem", "Anger management",
               "Insomnia", "Eating disorders", "OCD", "ADHD", "Life transitions", "LGBTQ+", "Chronic pain",
               "Career", "Mindfulness", "Men's issues", "Women's issues", "Postpartum"]  # fmt: skip
INSURERS = ["Aetna", "Cigna", "UnitedHealthcare", "Blue Cross Blue Shield", "Kaiser", "Humana", "Medicaid"]

H = wall
T = TypeVar("T")


def _weekly(days: range | tuple[int, ...], *ranges: tuple[wall, wall]) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(d, s, e) for d in days for s, e in ranges)


OFFICE_PATTERNS: list[tuple[float, tuple[WeeklyRule, ...]]] = [
    (35, _weekly(range(1, 6), (H(9), H(17)))),
    (10, _weekly(range(1, 6), (H(8), H(12)), (H(13), H(16)))),
    (20, _weekly(range(1, 5), (H(12), H(20)))),
    (15, _weekly(range(2, 7), (H(10), H(18)))),
    (10, _weekly(range(1, 6), (H(9), H(12)), (H(17), H(21)))),
    (10, _weekly(range(1, 6), (H(16), H(21))) + _weekly((6,), (H(9), H(13)))),
]


def _pick(rng: random.Random, options: Sequence[tuple[float, T]]) -> T:
    return rng.choices([o for _, o in options], weights=[w for w, _ in options])[0]


def make_therapist(rng: random.Random, states: list[str] | None = None) -> Candidate:
    pool = states or STATE_CODES
    weights = [STATES[c][0] for c in pool]
    licences: list[str] = []
    for _ in range(rng.choices([1, 2, 3], weights=[70, 22, 8])[0]):
        state = rng.choices(pool, weights=weights)[0]
        if state not in licences:
            licences.append(state)
    zone = STATES[licences[0]][1]
    lengths = sorted({50, *rng.sample([30, 45, 60], rng.randint(0, 2))} if rng.random() < 0.85 else {30, 45, 60})
    base = rng.randrange(9000, 25001, 500)
    rates = {m: Money(base * m // 50 // 100 * 100, "USD") for m in lengths}
    modalities = [m for m, p in ((Modality.VIDEO, 0.95), (Modality.AUDIO, 0.6), (Modality.PHONE, 0.45),
                                 (Modality.CHAT, 0.3)) if rng.random() < p] or [Modality.VIDEO]  # fmt: skip
    languages = ["en"] + [
        lang for lang, p in (("es", 0.18), ("zh", 0.03), ("vi", 0.02), ("fr", 0.02)) if rng.random() < p
    ]
    capacity = rng.randint(15, 35)
    profile = TherapistProfile(
        therapist_id=uuid.UUID(int=rng.getrandbits(128)),
        display_name="Therapist",
        timezone=zone,
        licenses=tuple(licences),
        specialties=tuple(rng.sample(SPECIALTIES, rng.randint(3, 8))),
        languages=tuple(languages),
        modalities=tuple(modalities),
        session_lengths=tuple(lengths),
        rates=rates,
        accepting_new_clients=rng.random() < 0.85,
        caseload_capacity=capacity,
    )
    hours = OfficeHours(
        timezone=zone,
        weekly=_pick(rng, OFFICE_PATTERNS),
        buffer_minutes=rng.choice([0, 0, 10, 10, 15]),
        max_sessions_per_day=rng.choice([None, None, 6, 7, 8]),
        min_notice_minutes=rng.choice([60, 120, 720, 1440]),
    )
    caseload = rng.randint(0, capacity)
    busy = _busy(rng, hours, caseload)
    traits = TherapistTraits(
        gender=rng.choices(list(TherapistGender), weights=[65, 30, 5])[0],
        faith_based=rng.random() < 0.12,
        lgbtq_affirming=rng.random() < 0.45,
        insurance_payers=tuple(rng.sample(INSURERS, rng.randint(0, 3))) if rng.random() < 0.6 else (),
    )
    return Candidate(profile, caseload, traits, hours, busy)


def _busy(rng: random.Random, hours: OfficeHours, caseload: int) -> list[tuple[datetime, datetime]]:
    """Each current client has a weekly 50-minute session at a fixed half hour inside office hours."""
    intervals = working_intervals(hours, NOW - timedelta(days=7), NOW)  # last week's hours
    if not intervals:
        return []
    busy = []
    for _ in range(min(caseload, 28)):
        iv = rng.choice(intervals)
        span = int((iv.end - iv.start).total_seconds() // 1800) - 2
        if span < 0:
            continue
        start = iv.start + timedelta(minutes=30 * rng.randint(0, span))
        for week in (1, 2, 3):  # this week, the next and the one after
            s = start + timedelta(days=7 * week)
            busy.append((s, s + timedelta(minutes=50)))
    busy.sort()
    return busy


TIME_PREFS: list[tuple[float, tuple[TimeRange, ...]]] = [
    (35, (TimeRange(H(17), H(21)),)),
    (15, (TimeRange(H(8), H(12)),)),
    (15, (TimeRange(H(12), H(17)),)),
    (20, ()),
    (5, (TimeRange(H(11, 30), H(13, 30)),)),
    (10, (TimeRange(H(7), H(9)), TimeRange(H(18), H(21)))),
]
DAY_PREFS: list[tuple[float, tuple[int, ...] | None]] = [
    (40, (1, 2, 3, 4, 5)),
    (25, ()),
    (10, (6, 7)),
    (25, None),  # a random subset
]


def make_client(rng: random.Random, states: list[str] | None = None) -> Intake:
    pool = states or STATE_CODES
    residence = rng.choices(pool, weights=[STATES[c][0] for c in pool])[0]
    days = _pick(rng, DAY_PREFS)
    if days is None:
        days = tuple(sorted(rng.sample(range(1, 8), rng.randint(2, 4))))
    payments: list[tuple[float, Budget | Insurance | None]] = [
        (45, Budget(rng.randrange(8000, 20001, 500), "USD")),
        (35, Insurance(rng.choice(INSURERS))),
        (20, None),
    ]
    payment = _pick(rng, payments)
    modalities = [Modality.VIDEO] if rng.random() < 0.7 else rng.sample(list(Modality), rng.randint(1, 3))
    return Intake(
        concerns=tuple(rng.sample([c for c in Concern if c is not Concern.OTHER], rng.randint(1, 4))),
        prior_therapy=rng.choice(list(PriorTherapy)),
        modalities=tuple(modalities),
        session_minutes=rng.choices([50, 30, 45, 60], weights=[60, 15, 10, 15])[0],
        language=rng.choices(["en", "es", "zh", "vi"], weights=[88, 10, 1, 1])[0],
        residence=residence,
        timezone=STATES[residence][1],
        consent_to_match=True,
        therapist_gender=rng.choices(list(GenderPreference), weights=[55, 35, 8, 2])[0],
        faith_based=rng.random() < 0.1,
        lgbtq_affirming=rng.random() < 0.25,
        days=days,
        times=_pick(rng, TIME_PREFS),
        payment=payment,
    )


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class SuggestFigures:
    p50: float
    p99: float
    worst: float
    eligible_mean: float
    eligible_max: int


def bench_suggestions(rng: random.Random, therapists: int, queries: int) -> SuggestFigures:
    t0 = time.perf_counter()
    pool = [make_therapist(rng) for _ in range(therapists)]
    clients = [make_client(rng) for _ in range(queries)]
    print(f"  data: {therapists} therapists, {queries} clients, made in {time.perf_counter() - t0:.1f} s")
    for client in clients[:5]:  # warm caches (specialty words, zones)
        suggest(client, pool, now=NOW)
    samples: list[float] = []
    cpu: list[float] = []
    by_state: dict[str, list[float]] = {}
    got = Counter[int]()
    gc.collect()
    for client in clients:
        start, start_cpu = time.perf_counter(), time.process_time()
        found = suggest(client, pool, now=NOW)
        elapsed = (time.perf_counter() - start) * 1000
        cpu.append((time.process_time() - start_cpu) * 1000)
        samples.append(elapsed)
        by_state.setdefault(client.residence, []).append(elapsed)
        got[len(found)] += 1
    eligible = [sum(1 for c in pool if is_eligible(client, c)) for client in clients]
    p50, p99, worst = statistics.median(samples), _pct(samples, 0.99), max(samples)
    print(f"  suggest(): p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {worst:.1f} ms   (target p99 <= 200 ms)")
    print(f"  CPU time per call: p50 {statistics.median(cpu):.1f} ms   p99 {_pct(cpu, 0.99):.1f} ms")
    print(
        f"  therapists passing the hard rules per client: mean {statistics.fmean(eligible):.0f}, "
        f"max {max(eligible)}; suggestions returned: {dict(sorted(got.items()))}"
    )
    for state in ("US-CA", "US-TX", "US-NY", "US-OH"):
        if by_state.get(state):
            s = by_state[state]
            print(f"    {state} clients ({len(s)}): p50 {statistics.median(s):.1f} ms, max {max(s):.1f} ms")
    example = suggest(clients[0], pool, now=NOW)
    if example:
        print(f"  example: score {example[0].score}: " + "; ".join(example[0].reason_texts))
    return SuggestFigures(p50, p99, worst, statistics.fmean(eligible), max(eligible))


PRACTICE_STATES = ["US-NY", "US-NJ", "US-PA", "US-CT", "US-MA"]


def bench_batch(rng: random.Random, clients: int, therapists: int) -> tuple[float, float]:
    """A group practice in five north-eastern states: its therapists and its waiting queue."""
    pool = []
    for _ in range(therapists):
        t = make_therapist(rng, PRACTICE_STATES)
        room = rng.randint(0, 8)  # a practice's therapists are mostly full: about 4 openings each
        caseload = max(0, t.profile.caseload_capacity - room)
        hours = t.office_hours
        assert hours is not None
        pool.append(Candidate(t.profile, caseload, t.traits, hours, _busy(rng, hours, caseload)))
    queue = [
        QueuedClient(uuid.UUID(int=rng.getrandbits(128)), make_client(rng, PRACTICE_STATES)) for _ in range(clients)
    ]
    print(f"  data: {clients} clients x {therapists} therapists, {sum(c.room for c in pool)} openings in all")

    gc.collect()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    problem: BatchProblem = build_problem(queue, pool, now=NOW)
    t_scores = time.perf_counter() - t0
    optimal = ScipyAssigner()
    t0 = time.perf_counter()
    plan = plan_batch(problem, optimal)
    t_plan = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    allowed = sum(1 for row in problem.scores for s in row if s is not None)
    t0 = time.perf_counter()
    best = optimal.assign(problem.scores, problem.capacities)
    t_solve = time.perf_counter() - t0
    verify_assignment(problem.scores, problem.capacities, best)

    t0 = time.perf_counter()
    greedy = GreedyAssigner().assign(problem.scores, problem.capacities)
    t_greedy = time.perf_counter() - t0
    verify_assignment(problem.scores, problem.capacities, greedy)

    total = t_scores + t_plan
    ratio = best.total / greedy.total if greedy.total else float("inf")
    print(f"  allowed pairs: {allowed:,} of {clients * therapists:,} ({allowed / (clients * therapists):.1%})")
    print(f"  scoring every pair (rules, score, availability): {t_scores:.2f} s")
    solver = optimal.last_method
    print(f"  assign + verify + explain (plan_batch): {t_plan:.2f} s, of which the solver ({solver}) {t_solve:.2f} s")
    print(f"  batch total (scores + assign + explain): {total:.2f} s, CPU {cpu:.2f} s   (target <= 30 s)")
    print(
        f"  total score: optimal {best.total:,.2f} ({best.assigned} assigned), greedy {greedy.total:,.2f} "
        f"({greedy.assigned} assigned, {t_greedy:.2f} s); optimal / greedy = {ratio:.4f}"
    )
    outcomes = Counter(p.outcome.value for p in plan.placements)
    print(f"  outcomes: {dict(outcomes)}")
    return total, ratio


def bench_solver_stress(rng: random.Random, clients: int, therapists: int) -> None:
    """The solver alone on a worst case for its size: every pair allowed, 0 to 10 openings per therapist."""
    scores = [[round(rng.uniform(20, 100), 2) for _ in range(therapists)] for _ in range(clients)]
    caps = [rng.randint(0, 10) for _ in range(therapists)]
    for assigner in (ScipyAssigner("auto"), ScipyAssigner("sparse")):
        t0 = time.perf_counter()
        result = assigner.assign(scores, caps)
        elapsed = time.perf_counter() - t0
        used = assigner.last_method
        print(f"  every pair allowed, {sum(caps)} openings: {used} {elapsed:.2f} s, total {result.total:,.2f}")
    t0 = time.perf_counter()
    greedy = GreedyAssigner().assign(scores, caps)
    print(f"  greedy {time.perf_counter() - t0:.2f} s, total {greedy.total:,.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--therapists", type=int, default=10_000, help="pool for suggestions")
    parser.add_argument("--queries", type=int, default=300, help="suggestion calls, one random client each")
    parser.add_argument("--clients", type=int, default=2_000, help="waiting clients in the batch")
    parser.add_argument("--batch-therapists", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-stress", action="store_true", help="skip the solver-only worst case")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

    print("Suggestions (top 3, hard rules + score + real availability over 14 days):")
    figures = bench_suggestions(rng, args.therapists, args.queries)
    print("Batch assignment:")
    batch_s, ratio = bench_batch(rng, args.clients, args.batch_therapists)
    if not args.skip_stress:
        print("Solver stress:")
        bench_solver_stress(rng, args.clients, args.batch_therapists)

    ok = figures.p99 <= SUGGEST_P99_TARGET_MS and batch_s <= BATCH_TARGET_S and ratio >= 1.0 - 1e-9
    print(f"Targets {'met' if ok else 'MISSED'}: suggestions p99 {figures.p99:.1f} ms, batch {batch_s:.1f} s, "
          f"optimal/greedy {ratio:.4f}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
