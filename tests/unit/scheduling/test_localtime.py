from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.scheduling.localtime import ensure_utc, load_zone, local_to_utc, minutes_of_day
from domain.shared.errors import ValidationFailed
from tests.unit.scheduling.factories import hm, utc

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def test_ordinary_time_keeps_its_wall_clock_across_dst() -> None:
    assert local_to_utc(date(2026, 3, 6), hm("09:00"), NY) == utc(2026, 3, 6, 14)
    assert local_to_utc(date(2026, 3, 9), hm("09:00"), NY) == utc(2026, 3, 9, 13)
    assert local_to_utc(date(2026, 10, 23), hm("09:00"), LONDON) == utc(2026, 10, 23, 8)
    assert local_to_utc(date(2026, 10, 26), hm("09:00"), LONDON) == utc(2026, 10, 26, 9)


@pytest.mark.parametrize("wall", ["02:00", "02:01", "02:30", "02:59"])
def test_time_in_spring_forward_gap_is_the_jump(wall: str) -> None:
    # New York skips 02:00-03:00 on 2026-03-08: the clocks jump at 07:00 UTC.
    moment = local_to_utc(date(2026, 3, 8), hm(wall), NY)
    assert moment == utc(2026, 3, 8, 7)
    assert moment.astimezone(NY).strftime("%H:%M %Z") == "03:00 EDT"


def test_london_gap() -> None:
    # London skips 01:00-02:00 on 2026-03-29, jumping at 01:00 UTC.
    assert local_to_utc(date(2026, 3, 29), hm("01:30"), LONDON) == utc(2026, 3, 29, 1)
    assert local_to_utc(date(2026, 3, 29), hm("02:00"), LONDON) == utc(2026, 3, 29, 1)
    assert local_to_utc(date(2026, 3, 29), hm("00:59"), LONDON) == utc(2026, 3, 29, 0, 59)


def test_ambiguous_time_is_its_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2026-11-01: first EDT (05:30Z), then EST (06:30Z).
    moment = local_to_utc(date(2026, 11, 1), hm("01:30"), NY)
    assert moment == utc(2026, 11, 1, 5, 30)
    assert moment.astimezone(NY).tzname() == "EDT"
    # London repeats 01:00-02:00 on 2026-10-25: first BST (00:xxZ).
    assert local_to_utc(date(2026, 10, 25), hm("01:15"), LONDON) == utc(2026, 10, 25, 0, 15)


def test_result_is_utc_aware() -> None:
    moment = local_to_utc(date(2026, 7, 1), hm("12:00"), NY)
    assert moment.utcoffset() == timedelta(0)


def test_ensure_utc_refuses_naive_and_converts_aware() -> None:
    with pytest.raises(ValidationFailed) as err:
        ensure_utc(datetime(2026, 1, 1, 9), field="start")
    assert (err.value.code, err.value.field) == ("invalid_datetime", "start")
    assert ensure_utc(datetime(2026, 1, 1, 9, tzinfo=NY), field="x") == utc(2026, 1, 1, 14)


def test_load_zone() -> None:
    assert load_zone("Europe/London") == LONDON
    with pytest.raises(ValidationFailed) as err:
        load_zone("Europe/Atlantis")
    assert err.value.code == "invalid_timezone"


def test_minutes_of_day_midnight_end() -> None:
    assert minutes_of_day(hm("00:00")) == 0
    assert minutes_of_day(hm("00:00"), end=True) == 1440
    assert minutes_of_day(hm("17:30"), end=True) == 1050
