"""The relay's internal HTTP API (`hearth relay`): the MediaRelay port over HTTP for `RemoteRelay`.

Not public: every route but /healthz needs `Authorization: Bearer <HEARTH_RELAY_SECRET>`. SDP is never logged.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from domain.media.relay import MediaRelay, RoomFull
from domain.shared.errors import DomainError

_MAX_SDP = 256 * 1024


def relay_app(relay: MediaRelay, secret: str, *, on_shutdown: Any = None) -> Starlette:
    if not secret:
        raise ValueError("the relay API needs a shared secret")
    expected = f"Bearer {secret}".encode()

    def authorized(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)

    def problem(status: int, code: str) -> JSONResponse:
        return JSONResponse({"code": code}, status_code=status)

    async def negotiate(request: Request) -> Response:
        if not authorized(request):
            return problem(401, "unauthorized")
        body = await request.body()
        if len(body) > _MAX_SDP:
            return problem(413, "too_large")
        try:
            sdp = json.loads(body)["sdp"]
            if not isinstance(sdp, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return problem(422, "invalid_body")
        room, participant = request.path_params["room"], request.path_params["participant"]
        try:
            answer = await relay.negotiate(room, participant, sdp)
        except RoomFull as exc:
            return problem(409, exc.code)
        except DomainError as exc:
            return problem(422, exc.code)
        return JSONResponse({"sdp": answer.sdp, "streams": answer.streams})

    async def leave(request: Request) -> Response:
        if not authorized(request):
            return problem(401, "unauthorized")
        await relay.leave(request.path_params["room"], request.path_params["participant"])
        return Response(status_code=204)

    async def close_room(request: Request) -> Response:
        if not authorized(request):
            return problem(401, "unauthorized")
        await relay.close_room(request.path_params["room"])
        return Response(status_code=204)

    async def participants(request: Request) -> Response:
        if not authorized(request):
            return problem(401, "unauthorized")
        return JSONResponse({"participants": await relay.participants(request.path_params["room"])})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            await on_shutdown()

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/rooms/{room}/participants/{participant}/negotiate", negotiate, methods=["POST"]),
            Route("/rooms/{room}/participants/{participant}", leave, methods=["DELETE"]),
            Route("/rooms/{room}/participants", participants, methods=["GET"]),
            Route("/rooms/{room}", close_room, methods=["DELETE"]),
        ],
        lifespan=lifespan,
    )
