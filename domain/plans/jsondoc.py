"""Strict reading and writing of the versioned JSON documents that services encrypt (plans, notes).

`to_dict` methods write only JSON types (str, int, None, list, dict with str keys) in one canonical form:
uuids as lower-case hyphenated strings, dates as `YYYY-MM-DD`, instants as UTC ISO 8601 with `+00:00`. The
readers here accept exactly that shape back, so `from_dict(to_dict(x)) == x` and `to_dict(from_dict(d)) == d`.
Anything else (an unknown or missing key, a wrong type, a non-canonical uuid, date or instant, another format
version `v`) raises `DocumentError` naming the offending path, never a bare `KeyError` or `TypeError`.

Notes reuse these helpers; they would sit in `domain/shared` if more areas needed them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

from domain.shared.errors import ValidationFailed, quoted

E = TypeVar("E", bound=StrEnum)

JsonObject = dict[str, object]


class DocumentError(ValidationFailed):
    """A serialised document that is not exactly the shape this version writes."""

    code = "invalid_document"

    def __init__(self, detail: str, *, path: str) -> None:
        super().__init__(f"{path}: {detail}" if path else detail, field=path or None)
        self.path = path


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def obj(value: object, path: str, keys: Collection[str]) -> Mapping[str, object]:
    """`value` as a dict whose keys are exactly `keys`."""
    if not isinstance(value, dict):
        raise DocumentError(f"expected an object, got {type(value).__name__}", path=path)
    present = set(value)
    unknown = sorted(str(k) for k in present - set(keys))
    if unknown:
        raise DocumentError(f"unknown key(s) {', '.join(unknown)}", path=path)
    missing = sorted(set(keys) - present)
    if missing:
        raise DocumentError(f"missing key(s) {', '.join(missing)}", path=path)
    return value


def versioned(value: object, path: str, keys: Collection[str], *, version: int = 1) -> Mapping[str, object]:
    """A top-level document: an object with `v == version` and exactly `keys` besides `v`."""
    if isinstance(value, dict) and "v" in value and value["v"] != version:
        raise DocumentError(
            f"unsupported document version {quoted(value['v'])} (expected {version})", path=join(path, "v")
        )
    data = obj(value, path, {"v", *keys})
    integer(data["v"], join(path, "v"))
    return data


def string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise DocumentError(f"expected a string, got {type(value).__name__}", path=path)
    return value


def optional_string(value: object, path: str) -> str | None:
    return None if value is None else string(value, path)


def integer(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DocumentError(f"expected an integer, got {type(value).__name__}", path=path)
    return value


def array(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise DocumentError(f"expected a list, got {type(value).__name__}", path=path)
    return value


def uid(value: object, path: str) -> uuid.UUID:
    text = string(value, path)
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != text:
        raise DocumentError(f"{quoted(text)} is not a canonical uuid", path=path)
    return parsed


def day(value: object, path: str) -> date:
    text = string(value, path)
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != text:
        raise DocumentError(f"{quoted(text)} is not a date as YYYY-MM-DD", path=path)
    return parsed


def optional_day(value: object, path: str) -> date | None:
    return None if value is None else day(value, path)


def instant(value: object, path: str) -> datetime:
    text = string(value, path)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None or dump_instant(parsed) != text:
        raise DocumentError(f"{quoted(text)} is not a UTC instant in ISO 8601", path=path)
    return parsed


def choice(value: object, enum: type[E], path: str) -> E:
    text = string(value, path)
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise DocumentError(f"{quoted(text)} is not one of {allowed}", path=path) from None


def dump_uuid(value: uuid.UUID) -> str:
    return str(value)


def dump_day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def dump_instant(value: datetime) -> str:
    """UTC ISO 8601; a naive instant is a programming error (validation refuses them earlier)."""
    if value.utcoffset() is None:
        raise ValueError("instants are timezone-aware")
    return value.astimezone(UTC).isoformat()


def canonical_json(data: object) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256_hex(data: object) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()
