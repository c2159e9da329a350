"""The message bus between API processes. Events carry ids only, never content: each process re-reads what it
delivers through the access rules, so a bus (or its logs) never sees a message body."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BusEvent:
    """`kind`: "message" (a new message with `seq`; with `user_id`, rung for that participant only), "read" (a
    read receipt up to `seq`), "typing", "alert" (a safety alert for `user_id`), "session_end" (a login session of
    `user_id` ended)."""

    kind: str
    conversation_id: uuid.UUID | None = None
    seq: int | None = None
    user_id: uuid.UUID | None = None

    def encode(self) -> str:
        parts = [
            self.kind,
            str(self.conversation_id or ""),
            "" if self.seq is None else str(self.seq),
            str(self.user_id or ""),
        ]
        return "|".join(parts)

    @classmethod
    def decode(cls, text: str) -> BusEvent:
        kind, conversation, seq, user = text.split("|")
        return cls(
            kind=kind,
            conversation_id=uuid.UUID(conversation) if conversation else None,
            seq=int(seq) if seq else None,
            user_id=uuid.UUID(user) if user else None,
        )


Handler = Callable[[BusEvent], Awaitable[None]]


class MessageBus(Protocol):
    async def start(self, handler: Handler) -> None:
        """Begin delivering every published event (from any process, this one included) to `handler`."""

    async def publish(self, event: BusEvent) -> None: ...

    async def publish_many(self, events: Sequence[BusEvent]) -> None:
        """Several events, in this order, in one round trip where the backend allows it."""

    async def stop(self) -> None: ...
