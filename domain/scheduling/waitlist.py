"""Waitlist: who wants a therapist's freed time, and what to offer them.

A client's preferred weekdays and time ranges are wall-clock times in the client's own zone (the entry's
`timezone`), since that is how they think of their week. When an appointment is cancelled, its interval is
matched against the entries, earliest joined first; each match gets one offer:

* the **longest** preferred duration that fits the freed interval and the preferences, at the **earliest** start
  on a `step_minutes` grid from the freed start;
* an offer must start no earlier than it expires (`expires_at`), so no one is offered time that begins before
  they could still claim it;
* by default all offers are open at once for the claim window (default 15 minutes) and the first to claim books
  through the ordinary booking path (so the database's no-overlap guarantee decides races); with
  `staggered=True` they open one after another, each for one claim window, in waitlist order.

The service re-checks the claimed time with `check_bookable` and `check_offered` when a client claims it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from domain.scheduling.localtime import ensure_utc, load_zone, local_to_utc
from domain.scheduling.model import Modality, TimeRange, validate_duration, validate_ranges
from domain.shared.errors import Conflict, ValidationFailed

DEFAULT_CLAIM_WINDOW = timedelta(minutes=15)
DEFAULT_WAITLIST_STEP_MINUTES = 5
_MIDNIGHT = time(0)


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    timezone: str  # the client's zone: weekdays and time ranges are read in it
    durations: tuple[int, ...]
    created_at: datetime
    weekdays: frozenset[int] = frozenset()  # ISO weekdays; empty = any day
    time_ranges: tuple[TimeRange, ...] = ()  # local ranges; empty = any time
    modality: Modality | None = None  # None = whatever the freed session was


@dataclass(frozen=True, slots=True)
class WaitlistOffer:
    entry_id: uuid.UUID
    client_id: uuid.UUID
    start: datetime
    end: datetime
    duration_minutes: int
    modality: Modality
    valid_from: datetime
    expires_at: datetime


def validate_waitlist_entry(entry: WaitlistEntry) -> None:
    """Raise `ValidationFailed`: `invalid_timezone`, `invalid_duration`, or `invalid_waitlist_entry` (malformed
    time ranges too)."""
    load_zone(entry.timezone)
    if not entry.durations or len(entry.durations) > 11:
        raise ValidationFailed("Give one to 11 durations.", code="invalid_waitlist_entry", field="durations")
    for minutes in entry.durations:
        validate_duration(minutes, field="durations")
    if any(isinstance(d, bool) or d not in range(1, 8) for d in entry.weekdays):
        raise ValidationFailed("weekdays are ISO: Monday = 1 ... Sunday = 7.", code="invalid_waitlist_entry")
    validate_ranges(entry.time_ranges, field="time_ranges", code="invalid_waitlist_entry")


def _fits_preferences(entry: WaitlistEntry, start: datetime, end: datetime) -> bool:
    zone = load_zone(entry.timezone)
    day = start.astimezone(zone).date()
    if entry.weekdays and day.isoweekday() not in entry.weekdays:
        return False
    if not entry.time_ranges:
        return True
    for r in entry.time_ranges:
        lo = local_to_utc(day, r.start, zone)
        hi = (
            local_to_utc(day + timedelta(days=1), r.end, zone) if r.end == _MIDNIGHT else local_to_utc(day, r.end, zone)
        )
        if lo <= start and end <= hi:
            return True
    return False


def _first_fit(
    entry: WaitlistEntry, freed_start: datetime, freed_end: datetime, not_before: datetime, step: timedelta
) -> tuple[datetime, int] | None:
    for minutes in sorted(set(entry.durations), reverse=True):
        length = timedelta(minutes=minutes)
        t = freed_start
        while t + length <= freed_end:
            if t >= not_before and _fits_preferences(entry, t, t + length):
                return t, minutes
            t += step
    return None


def match_freed_interval(
    entries: Iterable[WaitlistEntry],
    *,
    therapist_id: uuid.UUID,
    freed_start: datetime,
    freed_end: datetime,
    freed_modality: Modality,
    now: datetime,
    claim_window: timedelta = DEFAULT_CLAIM_WINDOW,
    step_minutes: int = DEFAULT_WAITLIST_STEP_MINUTES,
    exclude_client_id: uuid.UUID | None = None,
    staggered: bool = False,
) -> list[WaitlistOffer]:
    """Offers for the entries of `therapist_id` that match `[freed_start, freed_end)`, earliest joined first
    (ties by id). `exclude_client_id` is the client who freed the time. Entries of other therapists are skipped."""
    start = ensure_utc(freed_start, field="freed_start")
    end = ensure_utc(freed_end, field="freed_end")
    now = ensure_utc(now, field="now")
    if claim_window <= timedelta(0):
        raise ValidationFailed("The claim window must be positive.", code="invalid_claim_window")
    step = timedelta(minutes=step_minutes)
    if step <= timedelta(0):
        raise ValidationFailed("step_minutes must be positive.", code="invalid_step", field="step_minutes")
    ordered = sorted(
        (e for e in entries if e.therapist_id == therapist_id and e.client_id != exclude_client_id),
        key=lambda e: (ensure_utc(e.created_at, field="created_at"), str(e.id)),
    )
    offers: list[WaitlistOffer] = []
    seen_clients: set[uuid.UUID] = set()
    for entry in ordered:
        if entry.client_id in seen_clients:  # one offer per client, from their oldest entry
            continue
        valid_from = now + claim_window * len(offers) if staggered else now
        expires_at = valid_from + claim_window
        fit = _first_fit(entry, start, end, expires_at, step)
        if fit is None:
            continue
        slot_start, minutes = fit
        seen_clients.add(entry.client_id)
        offers.append(
            WaitlistOffer(
                entry_id=entry.id,
                client_id=entry.client_id,
                start=slot_start,
                end=slot_start + timedelta(minutes=minutes),
                duration_minutes=minutes,
                modality=entry.modality or freed_modality,
                valid_from=valid_from,
                expires_at=expires_at,
            )
        )
    return offers


def ensure_offer_open(offer: WaitlistOffer, *, now: datetime) -> None:
    """Raise `Conflict` with `offer_not_open` or `offer_expired` unless the offer can be claimed at `now`."""
    moment = ensure_utc(now, field="now")
    if moment < offer.valid_from:
        raise Conflict("This offer is not open yet.", code="offer_not_open")
    if moment >= offer.expires_at:
        raise Conflict("This offer has expired.", code="offer_expired")
