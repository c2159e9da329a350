"""Builders shared by the measures unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.measures.instruments import Instrument
from domain.measures.scoring import ScoredResponse, complete_response

THERAPIST = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
CLIENT = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
PRACTICE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def zeros(instrument: Instrument) -> dict[str, object]:
    return {item.key: 0 for item in instrument.items}


def answers_for_total(instrument: Instrument, total: int, *, risk_item: str | None = None) -> dict[str, object]:
    """Answers summing to `total`, filling items with 3s from the first; `risk_item` (if given) is kept at 0
    unless nothing else can hold the total."""
    keys = [k for k in instrument.item_keys if k != risk_item] + ([risk_item] if risk_item else [])
    result: dict[str, object] = {}
    left = total
    for key in keys:
        value = min(3, left)
        result[key] = value
        left -= value
    assert left == 0, "total above the instrument's maximum"
    return result


def response(
    instrument: Instrument,
    total: int,
    at: datetime,
    *,
    n: int = 1,
    q9: int = 0,
) -> ScoredResponse:
    """A scored response of `instrument` with `total` (and PHQ-9 item 9 = `q9`, counted in the total)."""
    answers = answers_for_total(instrument, total - q9, risk_item="q9" if "q9" in instrument.item_keys else None)
    if q9:
        answers["q9"] = q9
    return complete_response(instrument, answers, id=uid(n), client_id=CLIENT, completed_at=at)
