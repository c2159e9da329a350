"""Ports every area needs: time, ids and the transaction boundary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class IdGenerator(Protocol):
    def new(self) -> uuid.UUID: ...


class UuidGenerator:
    def new(self) -> uuid.UUID:
        return uuid.uuid4()


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls back."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def without_snapshot(self) -> None:
        """Declare (before the first statement) that this unit of work only reads and its reads need not see one
        consistent snapshot: hot reads may then skip BEGIN/ROLLBACK. Writes still get a transaction."""
