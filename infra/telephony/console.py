"""Development telephony: no phone rings. Logs the request (last four digits only) and plays the provider's
part: a few seconds later the therapist "answers", then the client, then the call runs until hung up.
Events go to the callback the composition root attaches (the service's `apply_event`)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from domain.shared.ports import Clock
from domain.telephony.errors import InvalidWebhookSignature
from domain.telephony.ports import CallEvent, CallLeg, CallStatus, PlacedCall, WebhookReply

log = structlog.get_logger("hearth.telephony.console")

EventSink = Callable[[uuid.UUID, CallEvent], Awaitable[Any]]

_PROGRESS = (
    (CallLeg.FIRST, CallStatus.RINGING),
    (CallLeg.FIRST, CallStatus.IN_PROGRESS),
    (CallLeg.SECOND, CallStatus.RINGING),
    (CallLeg.SECOND, CallStatus.IN_PROGRESS),
)


class ConsoleTelephony:
    def __init__(self, clock: Clock, *, step_seconds: float = 1.0) -> None:
        self._clock = clock
        self._step = step_seconds
        self._sink: EventSink | None = None
        self._calls: dict[str, tuple[uuid.UUID, asyncio.Task[None]]] = {}

    def attach(self, sink: EventSink) -> None:
        self._sink = sink

    async def bridge(self, *, reference: str, first: str, second: str) -> PlacedCall:
        sid = f"console-{uuid.uuid4().hex}"
        log.info("telephony.console.bridge", sid=sid, first="…" + first[-4:], second="…" + second[-4:])
        call_id = uuid.UUID(reference)
        self._calls[sid] = (call_id, asyncio.create_task(self._progress(call_id, sid)))
        return PlacedCall(provider_call_id=sid)

    async def hang_up(self, provider_call_id: str) -> None:
        entry = self._calls.pop(provider_call_id, None)
        if entry is None:
            return
        call_id, task = entry
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("telephony.console.hang_up", sid=provider_call_id)
        await self._emit(call_id, provider_call_id + "-2", CallLeg.SECOND, CallStatus.COMPLETED)
        await self._emit(call_id, provider_call_id, CallLeg.FIRST, CallStatus.COMPLETED)

    async def _progress(self, call_id: uuid.UUID, sid: str) -> None:
        for leg, status in _PROGRESS:
            await asyncio.sleep(self._step)
            await self._emit(call_id, sid if leg is CallLeg.FIRST else sid + "-2", leg, status)

    async def _emit(self, call_id: uuid.UUID, sid: str, leg: CallLeg, status: CallStatus) -> None:
        if self._sink is None:
            return
        try:
            await self._sink(call_id, CallEvent(sid, status, self._clock.now(), leg=leg))
        except Exception:  # a development stand-in must never take the server down
            log.exception("telephony.console.event_failed")

    async def aclose(self) -> None:
        for _, task in self._calls.values():
            task.cancel()
        self._calls.clear()

    def verify_webhook(self, url: str, params: dict[str, str], signature: str | None) -> None:
        raise InvalidWebhookSignature("The console telephony backend takes no webhooks.")

    def read_status(self, params: dict[str, str]) -> CallEvent:
        raise InvalidWebhookSignature("The console telephony backend takes no webhooks.")

    def connect_second(self, *, reference: str, second: str) -> WebhookReply:
        return WebhookReply("text/plain", "connect")

    def decline(self) -> WebhookReply:
        return WebhookReply("text/plain", "hang up")
