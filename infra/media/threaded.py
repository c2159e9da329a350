"""The in-process relay on its own thread and event loop.

`hearth serve` runs on uvloop, under which the relay dropped more datagrams in bench/relay.py than on a plain asyncio
loop (see the comment in `hearth relay`); a thread of its own also keeps media timing independent of slow API
handlers. The port's calls hop to the relay's loop and back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from domain.media.relay import RelayAnswer
from infra.media.forwarding_relay import ForwardingRelay

T = TypeVar("T")


class ThreadedRelay:
    def __init__(self, relay: ForwardingRelay) -> None:
        self._relay = relay
        self._loop = asyncio.new_event_loop()
        # Started with the first call: most processes (workers, tests) never relay anything.
        self._thread = threading.Thread(target=self._run, name="media-relay", daemon=True)
        self._start = threading.Lock()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.close()

    async def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._start:
            if not self._thread.is_alive() and self._thread.ident is None:
                self._thread.start()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def negotiate(self, room_id: str, participant_id: str, offer_sdp: str) -> RelayAnswer:
        return await self._call(self._relay.negotiate(room_id, participant_id, offer_sdp))

    async def leave(self, room_id: str, participant_id: str) -> None:
        await self._call(self._relay.leave(room_id, participant_id))

    async def close_room(self, room_id: str) -> None:
        await self._call(self._relay.close_room(room_id))

    async def participants(self, room_id: str) -> list[str]:
        return await self._call(self._relay.participants(room_id))

    async def close(self) -> None:
        if not self._thread.is_alive():
            if self._thread.ident is None:
                self._loop.close()
            return
        await self._call(self._relay.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 10)
