"""Matching: the intake questionnaire, hard eligibility rules, explainable scores, and capacity-aware batch
assignment of a waiting queue.

* `intake`: the versioned questionnaire a client answers (`Intake`), its validation and exact JSON round trip.
* `candidates`: what matching knows about one therapist (`Candidate`: profile, current caseload, matching
  traits, office hours and busy time).
* `rules`: the hard rules; a therapist failing any of them is never suggested nor assigned.
* `availability`: the client's preferred times as UTC windows, and how many free sessions fall in them.
* `scoring`: a score with human-readable reasons, the configurable `Weights`, and `suggest` (top 3).
* `assignment`: the `Assigner` port (optimal adapter in `infra.matching`), a greedy baseline, and
  `plan_batch`, which assigns a waiting queue and explains each placement.
"""
