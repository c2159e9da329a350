"""A socket's session watch survives a failed check (the database restarting) and still closes the socket later."""

from __future__ import annotations

import asyncio
from typing import Any

from api.ws import endpoint


class FlakyHub:
    """check_session fails once (an outage), then finds the session active, then revoked."""

    def __init__(self) -> None:
        self.answers: list[Any] = [ConnectionRefusedError("database restarting"), True, False]
        self.checks = 0

    async def check_session(self, _connection: object) -> bool:
        self.checks += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return bool(answer)


async def test_the_watch_outlives_a_failed_check_and_ends_when_the_session_does(monkeypatch):
    monkeypatch.setattr(endpoint, "SESSION_CHECK_SECONDS", 0.01)
    hub = FlakyHub()
    await asyncio.wait_for(endpoint._watch_session(hub, object()), 5)  # type: ignore[arg-type]
    assert hub.checks == 3 and not hub.answers
