"""Audit events and the hash chain that makes the trail tamper-evident.

Each stored event carries the hash of the one before it, so editing or deleting any
row breaks every link after it; `verify_chain` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from domain.shared.principal import Principal

GENESIS_HASH = "0" * 64


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, to what, by whom. Never carries clinical content, only ids."""

    action: str
    object_type: str
    object_id: str | None
    actor_id: uuid.UUID | None
    actor_role: str | None
    practice_id: uuid.UUID | None
    outcome: Outcome
    occurred_at: datetime
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str


def canonical(event: AuditEvent) -> str:
    doc = {
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "practice_id": str(event.practice_id) if event.practice_id else None,
        "outcome": str(event.outcome),
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "request_id": event.request_id,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def chain_hash(seq: int, prev_hash: str, event: AuditEvent) -> str:
    material = f"{seq}|{prev_hash}|{canonical(event)}".encode()
    return hashlib.sha256(material).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_broken_seq: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


class ChainVerifier:
    """Walks the chain one event at a time, so a long trail never has to fit in memory."""

    def __init__(self) -> None:
        self._prev = GENESIS_HASH
        self._expected_seq = 1
        self._checked = 0
        self._broken: tuple[int, str] | None = None

    def feed(self, item: ChainedEvent) -> bool:
        """False once a broken link has been found; later events are not checked."""
        if self._broken is not None:
            return False
        if item.seq != self._expected_seq:
            self._broken = (self._expected_seq, f"event {self._expected_seq} is missing")
        elif item.prev_hash != self._prev:
            self._broken = (item.seq, "link to the previous event does not match")
        elif chain_hash(item.seq, item.prev_hash, item.event) != item.hash:
            self._broken = (item.seq, "event content does not match its hash")
        if self._broken is not None:
            return False
        self._prev = item.hash
        self._expected_seq += 1
        self._checked += 1
        return True

    def report(self) -> ChainReport:
        if self._broken is None:
            return ChainReport(self._checked, None, None)
        return ChainReport(self._checked, self._broken[0], self._broken[1])


def verify_chain(events: Iterable[ChainedEvent]) -> ChainReport:
    verifier = ChainVerifier()
    for item in events:
        if not verifier.feed(item):
            break
    return verifier.report()


class AuditLog(Protocol):
    """Appends events inside the caller's transaction, so an event lands iff the change does."""

    async def append(self, event: AuditEvent) -> None: ...

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        """Several events, chained in this order, under one acquisition of the chain lock."""


def event_by(principal: Principal, action: str, object_type: str, object_id: object, at: datetime) -> AuditEvent:
    """A successful action of `principal` on one object: the common shape of every service's audit event."""
    return AuditEvent(
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        actor_id=principal.user_id,
        actor_role=str(principal.role),
        practice_id=principal.practice_id,
        outcome=Outcome.SUCCESS,
        occurred_at=at,
        request_id=principal.request_id,
    )
