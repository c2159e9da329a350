"""Payload encryption port (ARCHITECTURE.md, "Encryption of payloads").

Envelope encryption: every protected record group (a client record, a note, a conversation, a
psychotherapy note...) has its own 32-byte data key, stored next to the data only in wrapped form
(encrypted under a key-encryption key, KEK, that never enters the database). Payloads are sealed
under the data key with associated data that binds each ciphertext to its row, so a ciphertext
copied to another row, field or record group fails to open.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from domain.shared.errors import DomainError

AAD_VERSION = "v1"
RESERVED_AAD_NAMES = frozenset({"v1", "table", "row", "field", "key"})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_KEY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class CipherError(DomainError):
    """A payload or a data key could not be opened. Never carries plaintext or key material.

    `reason` says why, for operators and tests: `unknown_key` (the KEK id is not configured),
    `unwrap_failed` (the data key does not open under its KEK), `tampered` (the payload does not
    authenticate under this data key and row context) or `format` (not a ciphertext we know).
    """

    code = "decryption_failed"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WrappedDataKey:
    """A record group's data key as stored: wrapped under the KEK `kek_id`.

    `version` is the wrap format (1: XChaCha20-Poly1305 under the KEK); it says nothing about the
    data key itself, which stays the same across `PayloadCipher.rewrap`.
    """

    kek_id: str
    wrapped: bytes
    version: int = 1

    def __post_init__(self) -> None:
        if not self.kek_id:
            raise ValueError("a wrapped data key needs the id of its key-encryption key")
        if not isinstance(self.wrapped, bytes):  # bytearray / memoryview from a database driver
            object.__setattr__(self, "wrapped", bytes(self.wrapped))

    def __repr__(self) -> str:
        return f"WrappedDataKey(kek_id={self.kek_id!r}, version={self.version}, wrapped=<{len(self.wrapped)} bytes>)"


def _encode_value(value: str) -> str:
    # Percent-encoding keeps the rendering injective: no value can forge a `|` or `=`.
    return quote(value, safe="-._~:")


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"associated-data name {name!r} must match {_NAME.pattern}")


@dataclass(frozen=True, slots=True)
class AadContext:
    """Where a ciphertext lives: table, row id and field, plus extra pairs (conversation, sender...).

    Rendered canonically (extras sorted by name, values percent-encoded) as
    `v1|table=notes|row=<uuid>|field=body|key=<data key id>|<extra>=<value>...`.
    """

    table: str
    row: uuid.UUID | str
    field: str
    extra: tuple[tuple[str, str], ...] = ()
    _head: str = dataclasses.field(init=False, repr=False, compare=False)
    _tail: str = dataclasses.field(init=False, repr=False, compare=False)

    @classmethod
    def of(cls, table: str, row: uuid.UUID | str, field: str, /, **extra: uuid.UUID | str | int) -> AadContext:
        return cls(table, row, field, tuple((name, str(value)) for name, value in extra.items()))

    def __post_init__(self) -> None:
        _check_name(self.table)
        _check_name(self.field)
        row = str(self.row)
        if not row:
            raise ValueError("associated data needs a row id")
        extra = tuple(sorted((str(name), str(value)) for name, value in self.extra))
        names = [name for name, _ in extra]
        for name in names:
            _check_name(name)
            if name in RESERVED_AAD_NAMES:
                raise ValueError(f"associated-data name {name!r} is reserved")
        if len(set(names)) != len(names):
            raise ValueError(f"associated-data names repeat: {names}")
        object.__setattr__(self, "extra", extra)
        object.__setattr__(
            self, "_head", f"{AAD_VERSION}|table={self.table}|row={_encode_value(row)}|field={self.field}|key="
        )
        object.__setattr__(self, "_tail", "".join(f"|{name}={_encode_value(value)}" for name, value in extra))

    def for_row(self, row: uuid.UUID | str) -> AadContext:
        """The same context for another row of the table: what a hot path seals many rows with (one message
        after another) without validating and encoding the same names and extras again each time."""
        text = str(row)
        if not text:
            raise ValueError("associated data needs a row id")
        clone = object.__new__(AadContext)
        for name, value in (
            ("table", self.table),
            ("row", row),
            ("field", self.field),
            ("extra", self.extra),
            ("_head", f"{AAD_VERSION}|table={self.table}|row={_encode_value(text)}|field={self.field}|key="),
            ("_tail", self._tail),
        ):
            object.__setattr__(clone, name, value)
        return clone

    def render(self, key_id: str) -> bytes:
        """The associated data for a payload sealed under the data key `key_id`."""
        if not _KEY_ID.fullmatch(key_id):
            raise ValueError(f"key id {key_id!r} must match {_KEY_ID.pattern}")
        return (self._head + key_id + self._tail).encode()

    def describe(self) -> str:
        """For error messages: where the payload lives, without any payload content."""
        return f"{self.table}.{self.field} of row {self.row}"


class PayloadCipher(Protocol):
    """Envelope encryption of payloads. Every failure to open raises `CipherError`."""

    def new_data_key(self) -> WrappedDataKey:
        """A fresh random data key for one record group, wrapped under the current KEK."""
        ...

    def seal(self, plaintext: str | bytes, data_key: WrappedDataKey, context: AadContext) -> bytes:
        """Encrypt `plaintext` (str is UTF-8 encoded) for the row `context` describes."""
        ...

    def open(self, ciphertext: bytes, data_key: WrappedDataKey, context: AadContext) -> bytes:
        """Decrypt and authenticate; the same data key and an equal context are required."""
        ...

    def rewrap(self, data_key: WrappedDataKey) -> WrappedDataKey:
        """The same data key wrapped under the current KEK; payloads stay valid untouched.

        Returns `data_key` itself when it already is wrapped under the current KEK.
        """
        ...
