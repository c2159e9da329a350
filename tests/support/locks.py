"""Forcing two requests to overlap: hold the locks they need in a transaction of our own, wait until both wait on
them, then let them go. A race test that merely starts two requests together usually runs them one after the
other, and so passes whether or not the code serialises them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

_WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> ALL($1::int[])
"""


class HeldLocks:
    def __init__(self, holder: asyncpg.Connection, watcher: asyncpg.Connection) -> None:
        self._holder = holder
        self._watcher = watcher

    async def waiting(self, count: int, timeout: float = 10) -> None:
        """Return once `count` backends of this database (other than ours) wait for a lock."""
        ours = [self._holder.get_server_pid(), self._watcher.get_server_pid()]
        try:
            async with asyncio.timeout(timeout):
                while await self._watcher.fetchval(_WAITING, ours) < count:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(
                f"{count} requests never waited on the held locks: the code did not take them"
            ) from None


@contextlib.asynccontextmanager
async def held(database_url: str, *statements: tuple[object, ...]) -> AsyncIterator[HeldLocks]:
    """Run each statement (its SQL, then its arguments) in one transaction kept open while the block runs: the
    locks they take are held until the block ends."""
    holder = await asyncpg.connect(database_url)
    # A second connection watches: inside a transaction pg_stat_activity is read once and then stays as it was.
    watcher = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            for sql, *args in statements:
                await holder.execute(str(sql), *args)
            yield HeldLocks(holder, watcher)
    finally:
        await holder.close()
        await watcher.close()
