"""Opaque keyset cursors: clients pass back what they were given, never build one."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Query

from api.errors import ApiProblem
from api.schemas.types import MAX_BIGINT
from domain.shared.paging import Page

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=300, description="The `next_cursor` of the previous page")]


def encode(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode(cursor: str, arity: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != arity or not all(isinstance(p, str) for p in parts):
            raise ValueError
        return parts
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError):
        raise ApiProblem(422, "invalid_cursor", "The cursor is not one this API gave out.") from None


def time_id_cursor(moment: datetime, ident: uuid.UUID) -> str:
    return encode(moment.isoformat(), str(ident))


def parse_time_id_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    moment, ident = decode(cursor, 2)
    try:
        # Only what `time_id_cursor` writes: an aware moment PostgreSQL can compare (a crafted year 1 or 9999
        # with an offset would overflow in the driver, a naive one would be read in the server's zone).
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not 1900 <= parsed.astimezone(UTC).year <= 2999:
            raise ValueError
        return parsed, uuid.UUID(ident)
    except (ValueError, OverflowError):
        raise ApiProblem(422, "invalid_cursor", "The cursor is not one this API gave out.") from None


def id_cursor(ident: uuid.UUID) -> str:
    return encode(str(ident))


def parse_id_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        return uuid.UUID(decode(cursor, 1)[0])
    except ValueError:
        raise ApiProblem(422, "invalid_cursor", "The cursor is not one this API gave out.") from None


def page_out(page: Page[T], key: Callable[[T], tuple[datetime, uuid.UUID]]) -> tuple[list[T], str | None]:
    """A page the repository read in `key` order, and the cursor of the next page (None at the end): the last
    item's key, which the repository resumes strictly after."""
    return page.items, time_id_cursor(*key(page.items[-1])) if page.more and page.items else None


def parse_seq_cursor(cursor: str) -> int:
    """A message cursor is the last seq seen, in decimal: the same thing `after_seq` takes."""
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) > MAX_BIGINT:
        raise ApiProblem(422, "invalid_cursor", "The cursor is not one this API gave out.")
    return int(cursor)
