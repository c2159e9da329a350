"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to head, and the in-process job worker is polling",
    responses={503: {"model": Health, "description": "Not ready"}},
)
async def readyz(request: Request) -> Health:
    container = request.app.state.container
    if await container.database_ready() and container.jobs_ready():
        return Health(status="ok")
    return JSONResponse({"status": "unavailable"}, status_code=503)  # type: ignore[return-value]
