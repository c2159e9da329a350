"""create_app(settings): the FastAPI application, built without side effects at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.bootstrap import Settings, container_lifespan, load_settings
from api.docs import docs_router
from api.errors import install_error_handlers
from api.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, SecurityHeadersMiddleware
from api.openapi import build_openapi, operation_id
from api.policy import access_for
from api.routers import (
    appointments,
    auth,
    billing,
    calendar,
    clients,
    clinical,
    health,
    invitations,
    matching,
    me,
    measures,
    members,
    messaging,
    series,
    sessions,
    telephony,
    therapists,
    waitlist,
)
from api.routes import iter_routes
from api.security import authorize
from api.spa import spa_available, spa_mount
from api.ws import endpoint as ws_endpoint
from domain.shared.ports import Clock

API_DESCRIPTION = """Hearth's public API: the SPA, mobile apps and integrators all use this contract.

Errors are RFC 9457 `application/problem+json` with a stable `code`. Authenticate with
`Authorization: Bearer <access token>` from `POST /api/v1/auth/token`."""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, freeze_heap: bool = False) -> FastAPI:
    """`freeze_heap` (the server process only): once started, move everything allocated so far out of the cyclic
    garbage collector's reach. Startup leaves ~180,000 long-lived objects (routes, schemas, SQLAlchemy and
    pydantic caches); every full collection walked all of them (~60 ms on this machine, a p99 spike each time).
    Not in tests, where many apps live and die in one process and frozen garbage would never be freed."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container_lifespan(settings, clock) as container:
            app.state.container = container
            if freeze_heap:
                gc.collect()
                gc.freeze()
            yield

    app = FastAPI(
        title="Hearth API",
        version="1.0.0",
        summary="Remote-therapy practice platform",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # Hearth serves its own /docs and /redoc (api/docs.py): FastAPI's load Swagger UI and ReDoc from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "auth", "description": "Accounts, login and tokens"},
            {"name": "me", "description": "The signed-in user"},
            {"name": "invitations", "description": "Staffing a group practice: its admins invite, the invitee joins"},
            {
                "name": "members",
                "description": "A group practice's staff: its admins list them and remove those who leave",
            },
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
            {"name": "phone-calls", "description": "Phone sessions: the platform bridges therapist and client"},
            {"name": "telephony-webhooks", "description": "Called by the telephony provider, signature-checked"},
            {"name": "intake", "description": "The matching questionnaire: draft, resume, submit"},
            {
                "name": "matching",
                "description": "Suggestions, choosing or switching a therapist, queues, batch assignment",
            },
            {"name": "billing", "description": "Rates, policy, coded charges, invoices, card payments, superbills"},
            {"name": "health", "description": "Probes for load balancers and orchestrators"},
        ],
    )
    routers = (
        health.router,
        auth.router,
        invitations.router,
        members.router,
        me.router,
        therapists.router,
        appointments.router,
        clients.router,
        series.router,
        waitlist.router,
        calendar.router,
        measures.router,
        clinical.plans_router,
        clinical.notes_router,
        messaging.router,
        telephony.me_router,
        telephony.calls_router,
        telephony.webhooks_router,
        matching.intake_router,
        matching.router,
        billing.router,
        sessions.router,
    )
    for router in routers:
        app.include_router(router, dependencies=[Depends(authorize)])
    app.include_router(docs_router(settings.spa_dir), dependencies=[Depends(authorize)])
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
    app.add_middleware(SecurityHeadersMiddleware, https_only=settings.public_url.startswith("https://"))
    app.add_middleware(RequestContextMiddleware)

    if spa_available(settings.spa_dir):
        app.router.routes.append(spa_mount(settings.spa_dir))
    return app


def _check_policy_coverage(app: FastAPI) -> None:
    missing = [f"{r.method} {r.path}" for r in iter_routes(app) if access_for(r.method, r.path) is None]
    if missing:
        raise RuntimeError(f"routes without an access policy: {', '.join(sorted(missing))}")
