"""Opaque keyset cursors: clients pass back what they were given, never build one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

from api.errors import ApiProblem


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
