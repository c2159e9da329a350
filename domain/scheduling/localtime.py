"""Wall-clock time in an IANA zone <-> UTC instants, with one rule for DST edges.

A local date and wall time map to **the first instant at which a clock in that zone shows that time**:

* an ambiguous time (the repeated hour when clocks fall back) is its *first* occurrence, i.e. still on
  daylight time (`fold=0`); so 01:30 on 2026-11-01 in New York is 01:30 EDT (05:30 UTC);
* a time that does not exist (the hour skipped when clocks spring forward) is the instant the clocks jump,
  the first real instant after the gap; so 02:30 on 2026-03-08 in New York is 03:00 EDT (07:00 UTC).

With this rule an office-hours range such as 02:00-02:30 on a spring-forward day is empty (none of its wall
times exist) and 01:30-02:30 is the thirty real minutes before the jump. Every ordinary time (9:00) keeps its
wall-clock value on both sides of a transition, which is what therapists and clients expect.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.shared.errors import ValidationFailed, quoted

_ONE_SECOND = timedelta(seconds=1)


def load_zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone `name`, or `ValidationFailed(code="invalid_timezone")`."""
    unknown = ValidationFailed(
        f"Unknown time zone {quoted(name)}; use an IANA name such as Europe/London.",
        code="invalid_timezone",
        field=field,
    )
    if not name or name != name.strip() or len(name) > 64:
        raise unknown
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory, e.g. "America"
        raise unknown from exc


def ensure_utc(moment: datetime, *, field: str) -> datetime:
    """`moment` converted to UTC; a naive datetime is refused (`invalid_datetime`)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed(f"{field} must carry a time zone.", code="invalid_datetime", field=field)
    return moment.astimezone(UTC)


def local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant at which a clock in `zone` shows `wall` on `day` (see the module docstring)."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    after_gap = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first occurrence, or past a gap
    if after_gap.astimezone(zone).replace(tzinfo=None) == naive:
        return after_gap
    # `naive` falls in a spring-forward gap. fold=1 reads it with the offset after the jump, which lands
    # before the jump; fold=0 lands after it. Find the jump between the two, to the second.
    before_gap = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    target = after_gap.astimezone(zone).utcoffset()
    lo, hi = before_gap, after_gap
    while hi - lo > _ONE_SECOND:
        mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
        if mid.astimezone(zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def minutes_of_day(wall: time, *, end: bool = False) -> int:
    """Minutes since midnight; an `end` of 00:00 means midnight at the end of the day (1440)."""
    minutes = wall.hour * 60 + wall.minute
    return 1440 if end and minutes == 0 else minutes
