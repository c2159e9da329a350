"""What every bus adapter shares: the payload rules, in-order delivery to the handler, and reconnect backoff.

Delivery guarantees (all adapters):

- Events reach the handler one at a time, in the order this process received them (for one publisher, the
  order it published them; PostgreSQL delivers NOTIFYs in commit order).
- At most once, best effort. While a listener is disconnected, events are lost; the listener reconnects with
  exponential backoff and then calls `on_gap` (after it is listening again), so the receiver can re-read what
  it may have missed from the database. The bus is a doorbell: the database is the truth.
- A handler (or `on_gap`) that raises is logged and skipped; later events are still delivered. Handlers should
  be quick (hand the event to per-socket queues): the next event waits for the current handler.
- If the handler falls more than `max_pending` events behind, the backlog is dropped and replaced by one
  `on_gap` call (the receiver re-reads from the database anyway).

Payloads are `BusEvent.encode()` and nothing else: a kind (lowercase letters and `_`) and ids. `encode_event`
refuses anything else, so no message content can ever travel on (or be logged by) the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Awaitable, Callable

import structlog

from domain.messaging.bus import BusEvent, Handler

__all__ = [
    "DEFAULT_CHANNEL",
    "MAX_PAYLOAD_BYTES",
    "Backoff",
    "Dispatcher",
    "GapHandler",
    "InvalidBusEvent",
    "check_channel",
    "decode_event",
    "encode_event",
    "log",
]

log = structlog.get_logger("hearth.bus")

DEFAULT_CHANNEL = "hearth_bus"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more (the default page size); ids-only payloads are ~130.
MAX_PAYLOAD_BYTES = 7999

GapHandler = Callable[[], Awaitable[None]]

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PAYLOAD = re.compile(rf"[a-z][a-z_]{{0,31}}\|(?:{_UUID})?\|(?:[0-9]{{1,19}})?\|(?:{_UUID})?")
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,62}")


class InvalidBusEvent(ValueError):
    """The event does not encode to an ids-only payload (or is too large for the bus)."""


def check_channel(channel: str) -> str:
    """Channel names are lowercase identifiers (a valid unquoted PostgreSQL identifier, at most 63 bytes)."""
    if not _CHANNEL.fullmatch(channel):
        raise ValueError("a bus channel is a lowercase identifier: a-z, 0-9 and _, at most 63 characters")
    return channel


def encode_event(event: BusEvent) -> str:
    """The wire payload of `event`: `BusEvent.encode()`, checked to hold a kind and ids only."""
    if not isinstance(event, BusEvent):
        raise InvalidBusEvent(f"the bus carries BusEvent, not {type(event).__name__}")
    text = event.encode()
    size = len(text.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidBusEvent(f"a bus payload is at most {MAX_PAYLOAD_BYTES} bytes, this one has {size}")
    if not _PAYLOAD.fullmatch(text):
        # Never echo the text: whatever made it ill-formed may be content.
        raise InvalidBusEvent("a bus event carries a kind (a-z and _) and ids (UUIDs, a non-negative seq) only")
    return text


def decode_event(payload: str | bytes) -> BusEvent | None:
    """The event in a received payload; None (logged, without the payload) when it is not one of ours."""
    try:
        text = payload.decode() if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        text = ""
    if _PAYLOAD.fullmatch(text):
        return BusEvent.decode(text)
    log.warning("bus.malformed_event", size=len(payload))
    return None


class _Gap:
    """Queue marker: events may have been lost here."""


_GAP = _Gap()


class Dispatcher:
    """Calls the handler for each received event, one at a time, in order, from its own task. Adapters call
    `push` (from sync callbacks too) and `gap`."""

    def __init__(self, handler: Handler, *, on_gap: GapHandler | None, backend: str, max_pending: int = 10_000) -> None:
        if max_pending < 1:
            raise ValueError("max_pending is at least 1")
        self._handler = handler
        self._on_gap = on_gap
        self._backend = backend
        self._max_pending = max_pending
        self._queue: asyncio.Queue[BusEvent | _Gap] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"hearth-bus-dispatch-{self._backend}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def push(self, event: BusEvent) -> None:
        if self._queue.qsize() >= self._max_pending:
            log.warning("bus.overflow", backend=self._backend, dropped=self._queue.qsize() + 1)
            self._clear()
            self._queue.put_nowait(_GAP)
            return
        self._queue.put_nowait(event)

    def push_payload(self, payload: str | bytes) -> None:
        event = decode_event(payload)
        if event is not None:
            self.push(event)

    def gap(self) -> None:
        """Events may have been lost (the listener was disconnected): call `on_gap` after the queued events."""
        self._queue.put_nowait(_GAP)

    async def drain(self) -> None:
        """Wait until every event received so far has been handled."""
        await self._queue.join()

    def _clear(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, _Gap):
                    if self._on_gap is not None:
                        await self._on_gap()
                else:
                    await self._handler(item)
            except Exception as exc:
                fields = {"backend": self._backend, "error": type(exc).__name__}
                if isinstance(item, _Gap):
                    log.error("bus.gap_handler_failed", **fields)
                else:
                    log.error("bus.handler_failed", kind=item.kind, **fields)
            finally:
                self._queue.task_done()


class Backoff:
    """Exponential backoff with jitter for reconnect attempts: each wait is between half and all of the current
    delay, which doubles up to `maximum`; `reset()` after a success."""

    def __init__(self, initial: float = 0.1, maximum: float = 5.0) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff delays are positive and maximum >= initial")
        self._initial = initial
        self._maximum = maximum
        self._delay = initial

    def reset(self) -> None:
        self._delay = self._initial

    def next_delay(self) -> float:
        delay = random.uniform(self._delay / 2, self._delay)  # noqa: S311 - jitter, not a secret
        self._delay = min(self._delay * 2, self._maximum)
        return delay
