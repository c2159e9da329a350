"""The signed-in therapist's clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, Scheduling
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.scheduling import AppointmentOut, ClientOut, ClientPage

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
