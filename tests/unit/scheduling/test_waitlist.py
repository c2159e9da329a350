from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from domain.scheduling.model import Modality
from domain.scheduling.waitlist import (
    WaitlistEntry,
    WaitlistOffer,
    ensure_offer_open,
    match_freed_interval,
    validate_waitlist_entry,
)
from domain.shared.errors import Conflict, ValidationFailed
from tests.unit.scheduling.factories import THERAPIST, rng, utc

# Monday 2026-05-04, 10:00-10:50 in New York (EDT) = 14:00-14:50 UTC = 15:00-15:50 in London (BST).
FREED = (utc(2026, 5, 4, 14), utc(2026, 5, 4, 14, 50))
NOW = utc(2026, 5, 3, 12)
JOINED = utc(2026, 4, 1)


def entry(
    joined_days: int,
    *,
    durations: tuple[int, ...] = (50,),
    zone: str = "America/New_York",
    weekdays: frozenset[int] = frozenset(),
    ranges: tuple[tuple[str, str], ...] = (),
    modality: Modality | None = None,
    therapist: uuid.UUID = THERAPIST,
    client: uuid.UUID | None = None,
) -> WaitlistEntry:
    return WaitlistEntry(
        id=uuid.uuid4(),
        client_id=client or uuid.uuid4(),
        therapist_id=therapist,
        timezone=zone,
        durations=durations,
        created_at=JOINED + timedelta(days=joined_days),
        weekdays=weekdays,
        time_ranges=tuple(rng(a, b) for a, b in ranges),
        modality=modality,
    )


def match(entries: list[WaitlistEntry], now: datetime = NOW, **kw: object) -> list[WaitlistOffer]:
    return match_freed_interval(
        entries,
        therapist_id=THERAPIST,
        freed_start=FREED[0],
        freed_end=FREED[1],
        freed_modality=Modality.AUDIO,
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def test_matching_entries_in_joining_order_with_their_slot() -> None:
    other_therapist = entry(0, therapist=uuid.uuid4())
    tuesdays = entry(1, weekdays=frozenset({2}))
    london = entry(2, zone="Europe/London", weekdays=frozenset({1}), ranges=(("15:00", "16:00"),), durations=(30, 50))
    late_morning = entry(3, ranges=(("10:15", "12:00"),), durations=(25,), modality=Modality.VIDEO)
    too_long = entry(4, durations=(60,))
    anything = entry(5, durations=(20,))
    shuffled = [anything, too_long, late_morning, other_therapist, london, tuesdays]
    offers = match(shuffled)
    assert [o.entry_id for o in offers] == [london.id, late_morning.id, anything.id]
    by_entry = {o.entry_id: o for o in offers}
    # The longest preferred length that fits, at the earliest start.
    assert (by_entry[london.id].start, by_entry[london.id].end) == (utc(2026, 5, 4, 14), utc(2026, 5, 4, 14, 50))
    assert by_entry[london.id].duration_minutes == 50
    # 10:15 New York time is the first start inside that client's preferred range.
    assert (by_entry[late_morning.id].start, by_entry[late_morning.id].duration_minutes) == (
        utc(2026, 5, 4, 14, 15),
        25,
    )
    assert by_entry[late_morning.id].modality is Modality.VIDEO
    assert by_entry[anything.id].modality is Modality.AUDIO  # no preference: the freed session's modality
    for offer in offers:
        assert offer.valid_from == NOW
        assert offer.expires_at == NOW + timedelta(minutes=15)
        assert FREED[0] <= offer.start and offer.end <= FREED[1]


def test_ties_on_join_time_are_broken_by_id() -> None:
    a, b = entry(1, durations=(20,)), entry(1, durations=(20,))
    offers = match([b, a])
    assert [o.entry_id for o in offers] == sorted([a.id, b.id], key=str)


def test_the_client_who_freed_the_time_and_duplicate_entries() -> None:
    me = uuid.uuid4()
    someone = uuid.uuid4()
    entries = [entry(1, client=me), entry(2, client=someone), entry(3, client=someone, durations=(20,))]
    offers = match(entries, exclude_client_id=me)
    assert [o.client_id for o in offers] == [someone]
    assert offers[0].duration_minutes == 50  # from their oldest entry


def test_an_offer_never_starts_before_it_expires() -> None:
    now = utc(2026, 5, 4, 13, 50)  # 10 minutes before the freed time
    offers = match([entry(1, durations=(30,)), entry(2, durations=(50,))], now=now)
    assert len(offers) == 1
    assert offers[0].start == utc(2026, 5, 4, 14, 5)
    assert offers[0].start >= offers[0].expires_at


def test_custom_claim_window() -> None:
    offers = match([entry(1, durations=(20,))], claim_window=timedelta(minutes=5))
    assert offers[0].expires_at == NOW + timedelta(minutes=5)
    with pytest.raises(ValidationFailed) as err:
        match([entry(1)], claim_window=timedelta(0))
    assert err.value.code == "invalid_claim_window"


def test_staggered_offers_open_one_after_another() -> None:
    entries = [entry(i, durations=(20,)) for i in range(3)]
    offers = match(entries, staggered=True)
    assert [o.valid_from for o in offers] == [NOW, NOW + timedelta(minutes=15), NOW + timedelta(minutes=30)]
    assert [o.expires_at for o in offers] == [NOW + timedelta(minutes=m) for m in (15, 30, 45)]


def test_offer_claim_window() -> None:
    offers = match([entry(1, durations=(20,)), entry(2, durations=(20,))], staggered=True)
    first, second = offers
    ensure_offer_open(first, now=NOW)
    ensure_offer_open(first, now=NOW + timedelta(minutes=14, seconds=59))
    with pytest.raises(Conflict) as err:
        ensure_offer_open(first, now=NOW + timedelta(minutes=15))
    assert err.value.code == "offer_expired"
    with pytest.raises(Conflict) as err:
        ensure_offer_open(second, now=NOW + timedelta(minutes=1))
    assert err.value.code == "offer_not_open"
    ensure_offer_open(second, now=NOW + timedelta(minutes=15))


def test_preferred_range_in_the_clients_zone_across_dst() -> None:
    # Freed: Monday 2026-03-09 09:00-09:50 New York (EDT since the day before) = 13:00Z, still 13:00 GMT in London.
    london_13 = entry(1, zone="Europe/London", ranges=(("13:00", "14:00"),), durations=(50,))
    london_14 = entry(2, zone="Europe/London", ranges=(("14:00", "15:00"),), durations=(50,))
    offers = match_freed_interval(
        [london_13, london_14],
        therapist_id=THERAPIST,
        freed_start=utc(2026, 3, 9, 13),
        freed_end=utc(2026, 3, 9, 13, 50),
        freed_modality=Modality.VIDEO,
        now=utc(2026, 3, 1),
    )
    assert [o.entry_id for o in offers] == [london_13.id]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"durations": ()}, "invalid_waitlist_entry"),
        ({"durations": (45, 70)}, "invalid_duration"),
        ({"weekdays": frozenset({0})}, "invalid_waitlist_entry"),
        ({"time_ranges": (rng("12:00", "11:00"),)}, "invalid_waitlist_entry"),
        ({"timezone": "Moon/Base"}, "invalid_timezone"),
    ],
)
def test_bad_entries(changes: dict[str, object], code: str) -> None:
    good = entry(1, ranges=(("09:00", "12:00"),))
    validate_waitlist_entry(good)
    with pytest.raises(ValidationFailed) as err:
        validate_waitlist_entry(replace(good, **changes))  # type: ignore[arg-type]
    assert err.value.code == code
