"""What the hub's unit tests share: a socket that records the frames sent to it, and a way to wait for the tasks
the hub spawned (deliveries, pushes) to finish."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from api.ws.hub import Hub


class FakeSocket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.frames.append(json.loads(text))


async def settle(hub: Hub) -> None:
    while hub._tasks:
        await asyncio.gather(*list(hub._tasks))
