"""The session doorbell over the message bus: ids only (appointment, recipient, signal seq), never SDP."""

from __future__ import annotations

import uuid

from domain.messaging.bus import BusEvent, MessageBus

SESSION_CHANGED = "session"
CALL_SIGNAL = "call_signal"


class BusSessionNotifier:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    async def session_changed(self, appointment_id: uuid.UUID, user_id: uuid.UUID) -> None:
        # The bus's id slot for a conversation carries the appointment id here.
        await self._bus.publish(BusEvent(SESSION_CHANGED, conversation_id=appointment_id, user_id=user_id))

    async def signal(self, appointment_id: uuid.UUID, user_id: uuid.UUID, seq: int) -> None:
        await self._bus.publish(BusEvent(CALL_SIGNAL, conversation_id=appointment_id, seq=seq, user_id=user_id))
