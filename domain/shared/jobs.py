"""Background work, enqueued inside the caller's transaction so a job exists iff its change committed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class JobRequest:
    name: str
    payload: dict[str, str]
    execute_after: datetime | None = None


class JobScheduler(Protocol):
    async def enqueue(self, name: str, payload: dict[str, str], execute_after: datetime | None = None) -> int:
        """Payloads carry ids only, never content: they are stored in the database and its logs."""

    async def enqueue_many(self, jobs: Sequence[JobRequest]) -> list[int]:
        """Several jobs in one statement (one round trip)."""
