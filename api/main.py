"""create_app(settings): the FastAPI application, built without side effects at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.bootstrap import Settings, container_lifespan, load_settings
from api.errors import install_error_handlers
from api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from api.openapi import build_openapi, operation_id
from api.policy import access_for
from api.routers import (
    appointments,
    auth,
    calendar,
    clinical,
    health,
    me,
    measures,
    messaging,
    series,
    sessions,
    therapists,
    waitlist,
)
from api.routes import iter_routes
from api.security import authorize
from api.spa import SpaFiles, spa_available
from api.ws import endpoint as ws_endpoint
from domain.shared.ports import Clock

API_DESCRIPTION = """Hearth's public API: the SPA, mobile apps and integrators all use this contract.

Errors are RFC 9457 `application/problem+json` with a stable `code`. Authenticate with
`Authorization: Bearer <access token>` from `POST /api/v1/auth/token`."""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container_lifespan(settings, clock) as container:
            app.state.container = container
            yield

    app = FastAPI(
        title="Hearth API",
        version="1.0.0",
        summary="Remote-therapy practice platform",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=[
            {"name": "auth", "description": "Accounts, login and tokens"},
            {"name": "me", "description": "The signed-in user"},
            {"name": "therapists", "description": "Profiles, office hours, the directory and free slots"},
            {"name": "appointments", "description": "Booking, changing and listing sessions"},
            {"name": "series", "description": "Weekly and fortnightly recurring sessions"},
            {"name": "waitlist", "description": "Waiting for a therapist's freed time"},
            {"name": "calendar", "description": "iCalendar feeds for calendar apps"},
            {"name": "measures", "description": "PHQ-9 and GAD-7: assignment, scores, trends, safety alerts"},
            {"name": "plans", "description": "Therapy plans: goals, objectives, versions, acknowledgements"},
            {"name": "notes", "description": "Progress notes and psychotherapy notes"},
            {"name": "sessions", "description": "Live sessions: check-in, waiting room, ICE servers, step-down"},
            {"name": "conversations", "description": "Secure messaging between a client and their therapist"},
            {"name": "health", "description": "Probes for load balancers and orchestrators"},
        ],
    )
    routers = (
        health.router,
        auth.router,
        me.router,
        therapists.router,
        appointments.router,
        series.router,
        waitlist.router,
        calendar.router,
        measures.router,
        clinical.plans_router,
        clinical.notes_router,
        messaging.router,
        sessions.router,
    )
    for router in routers:
        app.include_router(router, dependencies=[Depends(authorize)])
    app.include_router(ws_endpoint.router)
    _check_policy_coverage(app)
    install_error_handlers(app)

    def custom_openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = custom_openapi  # type: ignore[method-assign]

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID"],
            expose_headers=["ETag", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware)

    if spa_available(settings.spa_dir):
        app.mount("/", SpaFiles(directory=settings.spa_dir, html=True), name="spa")
    return app


def _check_policy_coverage(app: FastAPI) -> None:
    missing = [f"{r.method} {r.path}" for r in iter_routes(app) if access_for(r.method, r.path) is None]
    if missing:
        raise RuntimeError(f"routes without an access policy: {', '.join(sorted(missing))}")
