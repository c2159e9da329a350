"""The telephony provider port.

`bridge` calls `first` (the therapist), and when they answer, calls `second` (the client) and joins the two legs;
both see the practice's number, never each other's. Call progress comes back later through the provider's
webhooks as `CallEvent`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class CallStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PlacedCall:
    provider_call_id: str


@dataclass(frozen=True)
class CallEvent:
    provider_call_id: str
    status: CallStatus
    at: datetime
    duration_seconds: int | None = None


class Telephony(Protocol):
    async def bridge(self, *, reference: str, first: str, second: str) -> PlacedCall:
        """`reference` is ours (an opaque call id), echoed in webhooks; numbers are E.164."""
        ...

    async def hang_up(self, provider_call_id: str) -> None: ...
