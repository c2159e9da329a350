"""A TCP proxy whose existing connections can be frozen: bytes stop flowing but no socket closes, as when a
network path dies silently. New connections still go through."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


class _Pair:
    def __init__(self) -> None:
        self.frozen = False
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []


class FreezableProxy:
    def __init__(self, connect_upstream: Connect) -> None:
        self._connect_upstream = connect_upstream
        self._pairs: list[_Pair] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def freeze(self) -> int:
        """Silence every connection open now; returns how many."""
        live = [pair for pair in self._pairs if not pair.frozen]
        for pair in live:
            pair.frozen = True
        return len(live)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pair in self._pairs:
            for task in pair.tasks:
                task.cancel()
            for writer in pair.writers:
                writer.close()
        for pair in self._pairs:
            for task in pair.tasks:
                with contextlib.suppress(BaseException):
                    await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._connect_upstream()
        pair = _Pair()
        pair.writers = [writer, up_writer]
        pair.tasks = [
            asyncio.create_task(self._pipe(pair, reader, up_writer)),
            asyncio.create_task(self._pipe(pair, up_reader, writer)),
        ]
        self._pairs.append(pair)

    @staticmethod
    async def _pipe(pair: _Pair, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if not pair.frozen:
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not pair.frozen:
                writer.close()
