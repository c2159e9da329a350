"""The signed-in therapist's clients."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, Scheduling
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.scheduling import AppointmentOut, ClientNameOut, ClientNames, ClientOut, ClientPage

router = APIRouter(prefix="/api/v1/clients", tags=["clients"])


@router.get(
    "",
    summary="My clients (therapists)",
    description="Everyone in active care with me, whether or not a session is booked (matching starts care "
    "before any booking), newest relationship first, with each client's next booked session.",
)
async def list_clients(
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> ClientPage:
    found = await scheduling.clients(principal, after=parse_time_id_cursor(cursor), limit=limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return ClientPage(
        items=[
            ClientOut(
                client_id=c.client_id,
                display_name=c.display_name,
                since=c.since,
                next_appointment=AppointmentOut.of(c.next_appointment) if c.next_appointment else None,
            )
            for c in items
        ],
        next_cursor=time_id_cursor(items[-1].since, items[-1].client_id) if more else None,
    )


@router.get(
    "/names",
    summary="Names of some of my clients (therapists)",
    description="The display names of the clients with these ids, for screens that show sessions, conversations "
    "or alerts by client id: one request for a whole screen. Clients I have or had in care and clients waiting on "
    "my waitlist are named; any other id (another therapist's or practice's client, an unknown id) is simply "
    "absent from the answer.",
)
async def list_client_names(
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    ids: Annotated[list[uuid.UUID], Query(alias="id", min_length=1, max_length=100)],
) -> ClientNames:
    names = await scheduling.client_names(principal, ids)
    return ClientNames(items=[ClientNameOut(client_id=i, display_name=n) for i, n in names.items()])
