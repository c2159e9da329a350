"""Background work, enqueued inside the caller's transaction so a job exists iff its change committed."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class JobScheduler(Protocol):
    async def enqueue(self, name: str, payload: dict[str, str], execute_after: datetime | None = None) -> int:
        """Payloads carry ids only, never content: they are stored in the database and its logs."""
