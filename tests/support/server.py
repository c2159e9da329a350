"""The real app served by uvicorn on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI

from api.cli import SERVE_OPTIONS


@contextlib.asynccontextmanager
async def serve(app: FastAPI, *, port: int = 0) -> AsyncIterator[str]:
    """`port` pins the address when the app must know its own URL up front (e.g. for provider webhooks)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **SERVE_OPTIONS)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped during startup")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
