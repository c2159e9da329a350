"""An in-process MessageBus (`HEARTH_BUS=memory`): for unit tests and a single API process.

Delivery goes through the same queue and rules as the real adapters (asynchronous, in order, handler errors
logged, payloads checked to be ids only). Buses built on one `InMemoryHub` hear each other, as processes
sharing a database would; by default each bus has a hub of its own. `published` records what was published.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.messaging.bus import BusEvent, Handler
from infra.pubsub.core import Dispatcher, GapHandler, encode_event

__all__ = ["InMemoryBus", "InMemoryHub"]


class InMemoryHub:
    """What a shared channel is to several processes: every started bus on the hub receives every event."""

    def __init__(self) -> None:
        self._subscribers: list[Dispatcher] = []

    def join(self, dispatcher: Dispatcher) -> None:
        self._subscribers.append(dispatcher)

    def leave(self, dispatcher: Dispatcher) -> None:
        self._subscribers.remove(dispatcher)

    def deliver(self, payload: str) -> None:
        for dispatcher in self._subscribers:
            dispatcher.push_payload(payload)


class InMemoryBus:
    def __init__(
        self, hub: InMemoryHub | None = None, *, on_gap: GapHandler | None = None, max_pending: int = 10_000
    ) -> None:
        self._hub = hub or InMemoryHub()
        self._on_gap = on_gap
        self._max_pending = max_pending
        self._dispatcher: Dispatcher | None = None
        self.published: list[BusEvent] = []

    async def start(self, handler: Handler) -> None:
        if self._dispatcher is not None:
            raise RuntimeError("the bus is already started")
        self._dispatcher = Dispatcher(handler, on_gap=self._on_gap, backend="memory", max_pending=self._max_pending)
        self._dispatcher.start()
        self._hub.join(self._dispatcher)

    async def publish(self, event: BusEvent) -> None:
        payload = encode_event(event)
        self.published.append(BusEvent.decode(payload))
        self._hub.deliver(payload)

    async def publish_many(self, events: Sequence[BusEvent]) -> None:
        for event in events:
            await self.publish(event)

    def simulate_gap(self) -> None:
        """As if the listener had reconnected: `on_gap` runs after the events queued so far (tests)."""
        if self._dispatcher is not None:
            self._dispatcher.gap()

    async def drain(self) -> None:
        """Wait until every event received so far has been handled."""
        if self._dispatcher is not None:
            await self._dispatcher.drain()

    async def stop(self) -> None:
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            self._hub.leave(dispatcher)
            await dispatcher.stop()
