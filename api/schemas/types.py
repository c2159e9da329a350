"""Field types shared by the contract models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# The largest values of PostgreSQL's bigint and integer: a request number beyond its column's range is refused with
# a 422 (or an `invalid_frame`) like any other bad input, before the driver would fail on it with a 500.
MAX_BIGINT = 2**63 - 1
MAX_INT = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 1900, 2999

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339_text(value: Any) -> Any:
    # Pydantic would read 0.5 as a Unix time; the contract promises RFC 3339 with an offset only.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-12-07T14:00:00Z")


def _plausible_year(value: datetime) -> datetime:
    # Year 1 or 9999 passes RFC 3339, but a day's arithmetic around it overflows Python's datetime (a 500).
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


Rfc3339 = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(_plausible_year),
    Field(examples=["2026-12-07T14:00:00Z"], json_schema_extra={"format": "date-time"}),
]


def _iso_date_text(value: Any) -> Any:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    ):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_text), Field(examples=["2026-12-24"])]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, and so is a NUL character anywhere
    (PostgreSQL cannot store it in text, and no legitimate input carries one)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data if isinstance(data, dict) else {}):
            raise ValueError("text must not contain NUL characters")
        return data
