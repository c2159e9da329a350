"""One walk over every route of the app, including those of included routers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import Mount, WebSocketRoute
from starlette.types import Scope


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


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of the app answers at the request's path, sorted (API routes answer no HEAD)."""
    path = get_route_path(scope)
    methods: set[str] = set()
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, Mount | WebSocketRoute | APIWebSocketRoute) or ctx.path is None:
            continue
        if ctx.path_regex.match(path):
            methods |= set(ctx.methods or ())
    return sorted(methods)
