"""Real availability: how many sessions a client could book with a therapist in the times they asked for.

* **Open slots** come from the scheduling rules themselves (`domain.scheduling.slots.available_slots`: office
  hours in the therapist's zone with exceptions, buffers, daily limit, notice, horizon, busy time), for the
  session length the client would get, starting in `[now, now + horizon)`.
* **Preferred windows** are the client's days and time ranges, read in the client's zone day by day (so DST is
  right), as UTC intervals. Ranges that touch are merged, and so are windows across midnight (22:00-24:00
  followed by 00:00-02:00), so a session may span the seam.
* **A slot fits** when it lies wholly inside one window.
* **Counted sessions** are distinct, non-overlapping sessions: within each window the earliest fitting slot
  is taken, then the earliest one starting after it ends, and so on. A free evening of four hours counts as
  four 50-minute sessions, not as the thirteen overlapping 15-minute-grid starts the booking screen offers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from domain.matching.candidates import Candidate
from domain.matching.intake import Intake
from domain.matching.labels import join_words
from domain.scheduling.localtime import load_zone, local_date, local_to_utc, minutes_of_day
from domain.scheduling.model import OfficeHours
from domain.scheduling.slots import Slot, available_slots

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_WHOLE_DAY = ((0, 1440),)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _merged_ranges(client: Intake) -> tuple[tuple[int, int], ...]:
    spans = sorted((minutes_of_day(r.start), minutes_of_day(r.end, end=True)) for r in client.times)
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged) or _WHOLE_DAY


def preferred_windows(client: Intake, start: datetime, end: datetime) -> list[Slot]:
    """The client's preferred days and times as merged UTC intervals overlapping `[start, end)`."""
    zone = load_zone(client.timezone)
    days = frozenset(client.days) or frozenset(range(1, 8))
    ranges = _merged_ranges(client)
    windows: list[Slot] = []
    day = local_date(start, zone) - _ONE_DAY
    last = local_date(end, zone)
    while day <= last:
        if day.isoweekday() in days:
            for lo, hi in ranges:
                w_start = local_to_utc(day, time(lo // 60, lo % 60), zone)
                w_end = (
                    local_to_utc(day + _ONE_DAY, _MIDNIGHT, zone)
                    if hi == 1440
                    else local_to_utc(day, time(hi // 60, hi % 60), zone)
                )
                if w_end > w_start and w_end > start and w_start < end:
                    if windows and w_start <= windows[-1].end:
                        windows[-1] = Slot(windows[-1].start, max(windows[-1].end, w_end))
                    else:
                        windows.append(Slot(w_start, w_end))
        day += _ONE_DAY
    return windows


@dataclass(frozen=True, slots=True)
class OpenSlots:
    """A therapist's free slots of one length, sorted, with their bounds as POSIX seconds for fast search."""

    slots: tuple[Slot, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def index_slots(slots: Sequence[Slot]) -> OpenSlots:
    return OpenSlots(
        tuple(slots), tuple(int(s.start.timestamp()) for s in slots), tuple(int(s.end.timestamp()) for s in slots)
    )


def open_slots(candidate: Candidate, minutes: int, now: datetime, horizon: timedelta) -> OpenSlots:
    """The therapist's free `minutes`-long slots starting in `[now, now + horizon)`."""
    if candidate.office_hours is None:
        return index_slots(())
    return index_slots(available_slots(candidate.office_hours, candidate.busy, now, now + horizon, minutes, now))


def window_bounds(windows: Sequence[Slot]) -> tuple[tuple[int, int], ...]:
    """Windows as POSIX seconds, for `fitting_sessions`."""
    return tuple((int(w.start.timestamp()), int(w.end.timestamp())) for w in windows)


def fitting_sessions(
    found: OpenSlots, windows: Sequence[tuple[int, int]], *, keep: int = 0, stop_at: int | None = None
) -> tuple[int, tuple[Slot, ...]]:
    """How many distinct sessions from `found` (sorted, all of one length) fit in `windows` (sorted, disjoint,
    as `window_bounds` gives them), and the first `keep` of them. With `stop_at`, counting stops there."""
    starts, ends = found.starts, found.ends
    count = 0
    first: list[Slot] = []
    n = len(starts)
    for w_start, w_end in windows:
        i = bisect_left(starts, w_start)
        while i < n and ends[i] <= w_end:  # one length: once a slot ends too late, every later one does
            count += 1
            if len(first) < keep:
                first.append(found.slots[i])
            if stop_at is not None and count >= stop_at:
                return count, tuple(first)
            i = bisect_left(starts, ends[i], i + 1)
    return count, tuple(first)


_DAY_SECONDS = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def hours_bound(
    office_hours: OfficeHours | None, windows: Sequence[tuple[int, int]], minutes: int, now: datetime
) -> int | None:
    """A cheap upper bound on the sessions `fitting_sessions` can find for this therapist in `windows` (as
    `window_bounds` gives them): per window, the minutes it shares with the office hours divided by the session
    length. It ignores busy time, buffers, limits and notice, which only remove slots: every counted session
    lies inside office hours and inside one window, and sessions do not overlap.

    `None` when the therapist's zone changes its UTC offset around the windows (a DST change): the bound reads
    local time as UTC plus one fixed offset, so it then gives up rather than risk being too low."""
    if office_hours is None or not windows:
        return 0
    first = min(windows[0][0], int(now.timestamp())) - _DAY_SECONDS
    shift = _fixed_offset(office_hours.timezone, first // _DAY_SECONDS, windows[-1][1] // _DAY_SECONDS + 1)
    if shift is None:
        return None
    weekly: dict[int, list[tuple[int, int]]] = {}
    for rule in office_hours.weekly:
        weekly.setdefault(rule.weekday, []).append(_seconds(rule.start, rule.end))
    exceptions = {exc.date: [_seconds(r.start, r.end) for r in exc.ranges] for exc in office_hours.exceptions}
    length = minutes * 60
    total = 0
    for w_start, w_end in windows:
        lo, hi = w_start + shift, w_end + shift  # local wall clock, as seconds since 1970-01-01 00:00 local
        shared = 0
        for day in range(lo // _DAY_SECONDS, (hi - 1) // _DAY_SECONDS + 1):
            if exceptions and (on := date.fromordinal(_EPOCH_ORDINAL + day)) in exceptions:
                ranges = exceptions[on]
            else:
                ranges = weekly.get((day + 3) % 7 + 1, [])  # 1970-01-01 was a Thursday (ISO 4)
            base = day * _DAY_SECONDS
            for r_start, r_end in ranges:
                a, b = max(lo, base + r_start), min(hi, base + r_end)
                if b > a:
                    shared += b - a
        total += shared // length
    return total


@lru_cache(maxsize=1024)
def _fixed_offset(zone_name: str, first_day: int, last_day: int) -> int | None:
    """The zone's UTC offset in seconds if it is the same all through days `first_day..last_day` (POSIX day
    numbers, sampled every 3 hours), else None."""
    zone = load_zone(zone_name)
    offsets = {
        datetime.fromtimestamp(t, zone).utcoffset()
        for t in range(first_day * _DAY_SECONDS, (last_day + 1) * _DAY_SECONDS + 1, 3 * 3600)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else int(offset.total_seconds())


def _seconds(start: time, end: time) -> tuple[int, int]:
    return minutes_of_day(start) * 60, minutes_of_day(end, end=True) * 60


def describe_times(client: Intake) -> str:
    """The client's preferred times in words, for reasons: "your evenings", "your weekday mornings", "your
    Saturday and Sunday afternoons", "your preferred times"; "" when the client takes any time."""
    days = client.days
    if not client.times:
        if not days or len(days) == 7:
            return ""
        return f"your {_days_words(days, plural=True)}"
    parts: list[str] = []
    for lo, hi in _merged_ranges(client):
        part = _day_part(lo, hi)
        if part is None:
            return "your preferred times"
        if part not in parts:
            parts.append(part)
    prefix = "" if not days or len(days) == 7 else f"{_days_words(days, plural=False)} "
    return f"your {prefix}{join_words(parts)}"


def _day_part(lo: int, hi: int) -> str | None:
    if lo >= 5 * 60 and hi <= 12 * 60:
        return "mornings"
    if lo >= 12 * 60 and hi <= 17 * 60 + 30:
        return "afternoons"
    if lo >= 16 * 60 and hi <= 1440:
        return "evenings"
    return None


def _days_words(days: Sequence[int], *, plural: bool) -> str:
    if tuple(days) == (1, 2, 3, 4, 5):
        return "weekdays" if plural else "weekday"
    if tuple(days) == (6, 7):
        return "weekends" if plural else "weekend"
    return join_words([_DAY_NAMES[d - 1] + ("s" if plural else "") for d in days])
