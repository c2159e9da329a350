"""One walk over every route of the app, including those of included routers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount, WebSocketRoute


@dataclass(frozen=True)
class RouteEntry:
    method: str
    path: str
    is_api: bool
    route: Any  # fastapi RouteContext: delegates attributes to the effective route


def iter_routes(app: FastAPI) -> Iterator[RouteEntry]:
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, Mount) or ctx.path is None:
            continue
        if isinstance(ctx.original_route, WebSocketRoute | APIWebSocketRoute):
            yield RouteEntry("WS", ctx.path, False, ctx)
            continue
        for method in sorted(ctx.methods or ()):
            if method == "HEAD":
                continue
            yield RouteEntry(method, ctx.path, isinstance(ctx.original_route, APIRoute), ctx)
