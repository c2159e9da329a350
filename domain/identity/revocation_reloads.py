"""Re-reading revoked sessions for the bus (ADR 20): after a bus gap (all of them) or a `session_end` bell (one
user's). A read that fails twice is retried in the background with a growing pause until one succeeds, so a
database that is down for a while delays those revocations rather than losing them until their tokens expire."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from domain.identity.revocations import RevokedSessions

log = logging.getLogger("hearth.auth")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before the first background retry, doubled after each failure up to `most`."""

    first: float = 0.5
    most: float = 30.0


class RevocationReloads:
    def __init__(self, revoked: RevokedSessions, backoff: Backoff = Backoff()) -> None:
        self._revoked = revoked
        self.backoff = backoff
        # What the pending retry still has to read: everything, or these users' revocations.
        self._all = False
        self._users: set[uuid.UUID] = set()
        self._retry: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def retrying(self) -> bool:
        return self._retry is not None

    async def reload(self, user_id: uuid.UUID | None = None) -> None:
        """Read the revocations back (only `user_id`'s when given). Tried a second time at once: a gap usually
        comes from a database restart, which leaves the pool's idle connections dead, and without pre-ping the
        first use of one fails (and discards the pool's old connections). Should that fail too, the one background
        retry takes the read over and this returns, so the bus goes on delivering. While a retry is pending, a new
        read only joins it: the database failed lately, and reads that wait on it would hold up the bus."""
        if self._closed:
            return
        if self._retry is None:
            for attempt in (1, 2):
                try:
                    await self._revoked.load(user_id)
                    return
                except Exception as exc:
                    log.warning("revocations reload failed (attempt %d): %s", attempt, type(exc).__name__)
            if self._closed:
                return
        self._want(user_id)
        if self._retry is None:
            self._retry = asyncio.get_running_loop().create_task(self._retry_until_read(), name="hearth-revocations")

    def _want(self, user_id: uuid.UUID | None) -> None:
        if user_id is None:
            self._all, self._users = True, set()  # a full read covers every user's
        elif not self._all:
            self._users.add(user_id)

    async def _retry_until_read(self) -> None:
        delay = self.backoff.first
        try:
            while self._all or self._users:
                await asyncio.sleep(delay)
                # Taken before the read: a request that arrives during it is read in the next round, not lost.
                everything, users = self._all, self._users
                self._all, self._users = False, set()
                try:
                    if everything:
                        await self._revoked.load()
                    for user_id in users:
                        await self._revoked.load(user_id)
                except Exception as exc:
                    if everything:
                        self._want(None)
                    for user_id in users:
                        self._want(user_id)
                    delay = min(delay * 2, self.backoff.most)
                    log.warning("revocations reload retry failed: %s; next in %.1f s", type(exc).__name__, delay)
                else:
                    delay = 0  # the database answers: what arrived meanwhile is read at once
        finally:
            self._retry = None

    async def close(self) -> None:
        """Stop retrying (at shutdown): nothing is pending afterwards, and no new retry starts."""
        self._closed = True
        retry, self._retry = self._retry, None
        if retry is not None:
            retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retry
