"""Booking, listing, cancelling and rescheduling appointments."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from api.deps import Container_, CurrentPrincipal, Scheduling, Series_
from api.idempotency import IdempotencyKey, run_idempotent
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.billing import LateFeeProblem
from api.schemas.scheduling import (
    AppointmentOut,
    AppointmentPage,
    BookAppointment,
    CancelSeriesAppointment,
    RescheduleSeriesAppointment,
    StatusChange,
)
from api.schemas.types import Rfc3339
from domain.scheduling.model import AppointmentStatus, Modality
from domain.scheduling.service import BookingRequest

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such appointment, or not yours (`not_found`)"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Book a session",
    description="Clients book for themselves; a therapist may book for one of their clients (`client_id`). "
    "Overlap with another active session of the therapist or the client is `409 slot_taken`, guaranteed by "
    "the database. A time outside the therapist's slots is `422` with the reason's code.",
    responses={
        201: {"model": AppointmentOut},
        404: {"description": "No such therapist or client"},
        409: {"description": "`slot_taken`, or `idempotency_in_progress`"},
    },
    response_model=AppointmentOut,
)
async def create(
    body: BookAppointment,
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def book() -> AppointmentOut:
        appointment = await scheduling.book(
            principal,
            BookingRequest(
                therapist_id=body.therapist_id,
                start=body.start,
                duration_minutes=body.duration_minutes,
                modality=Modality(body.modality),
                client_id=body.client_id,
                policy_version=body.policy_version,
            ),
        )
        return AppointmentOut.of(appointment)

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        "appointments-create",
        body,
        status.HTTP_201_CREATED,
        book,
    )


@router.get("", summary="My appointments (clients) or my practice's (staff)")
async def list_appointments(
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    start: Annotated[Rfc3339 | None, Query(description="Only sessions starting at or after")] = None,
    end: Annotated[Rfc3339 | None, Query(description="Only sessions starting before")] = None,
    therapist_id: Annotated[uuid.UUID | None, Query(description="Only this therapist's sessions")] = None,
    client_id: Annotated[uuid.UUID | None, Query(description="Only this client's sessions")] = None,
    order: Annotated[
        Literal["oldest_first", "newest_first"],
        Query(description="By start time; a cursor continues in the order it was given out for"),
    ] = "oldest_first",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> AppointmentPage:
    found = await scheduling.list(
        principal,
        start=start,
        end=end,
        therapist_id=therapist_id,
        client_id=client_id,
        newest_first=order == "newest_first",
        after=parse_time_id_cursor(cursor),
        limit=limit + 1,
    )
    items = found[:limit]
    more = len(found) > limit
    return AppointmentPage(
        items=[AppointmentOut.of(a) for a in items],
        next_cursor=time_id_cursor(items[-1].start, items[-1].id) if more else None,
    )


@router.get("/{appointment_id}", summary="One appointment", responses=_NOT_FOUND)
async def get_appointment(
    appointment_id: uuid.UUID, principal: CurrentPrincipal, scheduling: Scheduling
) -> AppointmentOut:
    return AppointmentOut.of(await scheduling.get(principal, appointment_id))


@router.post(
    "/{appointment_id}/cancel",
    summary="Cancel a session",
    description="Inside the therapist's cancellation window a client's cancellation is `late_cancelled` "
    "(recorded for billing, with the fee of the policy the client accepted at booking). When that fee is not "
    "zero the client must accept it: send the fee shown (`GET .../cancellation-terms`) as `accept_late_fee`. "
    "Without it, or with another amount or currency (the window closed meanwhile, say), the answer is "
    "`409 late_fee_not_accepted` whose body carries the fee due (`late_fee`) and the current "
    "`cancellation_terms`: show them and send again with that fee. A cancellation that is not late, costs "
    'nothing or is made by the therapist needs no acceptance. With `scope: "this_and_following"` the fee due '
    "is the sum over the late occurrences. The freed time is offered to the waitlist.",
    responses={
        **_NOT_FOUND,
        409: {
            "model": LateFeeProblem,
            "description": "Not cancellable in its state (`invalid_state`), or a late cancellation whose fee the "
            "client has not accepted (`late_fee_not_accepted`)",
        },
    },
)
async def cancel(
    appointment_id: uuid.UUID,
    body: CancelSeriesAppointment,
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    series: Series_,
) -> AppointmentOut:
    accepted = body.accept_late_fee.money() if body.accept_late_fee else None
    if body.scope == "this_and_following":
        cancelled = await series.cancel_following(principal, appointment_id, body.reason, accepted)
        return AppointmentOut.of(next(a for a in cancelled if a.id == appointment_id))
    return AppointmentOut.of(await scheduling.cancel(principal, appointment_id, body.reason, accepted))


@router.post(
    "/{appointment_id}/reschedule",
    summary="Move a session",
    description="Atomic: the old time is released only if the new one is taken. With "
    '`scope: "this_and_following"` a recurring series is split here: this and every later booked occurrence '
    "move to the new weekly time (the answer is the new first occurrence).",
    responses={**_NOT_FOUND, 409: {"description": "`slot_taken` or `invalid_state`"}},
)
async def reschedule(
    appointment_id: uuid.UUID,
    body: RescheduleSeriesAppointment,
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    series: Series_,
) -> AppointmentOut:
    if body.scope == "this_and_following":
        result = await series.edit_following(principal, appointment_id, body.start, body.duration_minutes)
        first = result.occurrences[0].appointment
        assert first is not None  # edit_following refuses the whole change when its first occurrence fails
        return AppointmentOut.of(first)
    return AppointmentOut.of(await scheduling.reschedule(principal, appointment_id, body.start, body.duration_minutes))


@router.post(
    "/{appointment_id}/status",
    summary="Record a session's progress (staff)",
    description="Marks check-in, start, completion or a no-show. Illegal transitions are `409 invalid_state`; a "
    "session the client joined is never a no-show (`409 client_attended`). Check-in and start follow the clock: "
    "not before the session's join window opens (`422 outside_join_window`); a start needs both to have joined the "
    "call or the phone call to have connected (`409 session_not_held`). A no-show needs the session to have "
    "started (`409 session_not_started`). A completion ends the session as `POST .../session/end` does, with its "
    "rules (`409 session_not_started`, `409 session_not_held`), its charge and its audit; marking a completed "
    "session completed again changes nothing and charges nothing.",
    responses={
        **_NOT_FOUND,
        409: {"description": "`invalid_state`, `client_attended`, `session_not_started` or `session_not_held`"},
        422: {"description": "`outside_join_window`"},
    },
)
async def change_status(
    appointment_id: uuid.UUID, body: StatusChange, principal: CurrentPrincipal, scheduling: Scheduling
) -> AppointmentOut:
    return AppointmentOut.of(await scheduling.transition(principal, appointment_id, AppointmentStatus(body.status)))
