"""Therapy plans, progress notes and psychotherapy notes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from api.deps import CurrentPrincipal, Notes, Plans
from api.etags import etag, parse_if_match, sets_etag
from api.pagination import Cursor, Limit, page_out, parse_time_id_cursor
from api.schemas.clinical import (
    Acknowledge,
    AcknowledgementOut,
    AddAddendum,
    NoteDocumentIO,
    NoteOut,
    PlanDocumentIO,
    PlanOut,
    ProgressOut,
    PsychotherapyEdit,
    PsychotherapyIn,
    PsychotherapyList,
    PsychotherapyOut,
    TodoOut,
    Todos,
)
from api.schemas.types import MAX_INT

plans_router = APIRouter(prefix="/api/v1/clients/{client_id}/plan", tags=["plans"])
notes_router = APIRouter(prefix="/api/v1", tags=["notes"])

IfMatch = Annotated[str | None, Header(max_length=40, description='The ETag you read; "v0" to create')]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such client, plan or note (or not yours)"}}
_VERSIONED: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    412: {"description": "Changed since you read it (`precondition_failed`)"},
    428: {"description": "If-Match is required"},
}


@plans_router.get("", summary="A client's therapy plan (current version)", responses=_NOT_FOUND)
@sets_etag
async def get_plan(
    client_id: uuid.UUID,
    principal: CurrentPrincipal,
    plans: Plans,
    response: Response,
    therapist_id: Annotated[uuid.UUID | None, Query(description="Clients with several therapists")] = None,
) -> PlanOut:
    view = await plans.get(principal, client_id, therapist_id)
    response.headers["ETag"] = etag(view.plan.version)
    return PlanOut.of(
        view.plan,
        acknowledged_at=view.acknowledgement.acknowledged_at if view.acknowledgement else None,
        progress=[ProgressOut.of(e) for entries in view.progress.values() for e in entries],
    )


@plans_router.put(
    "",
    summary="Write the plan's next version (therapists)",
    description='Send If-Match "v0" to create the plan, else the ETag you read. Every version stays readable.',
    responses=_VERSIONED,
)
@sets_etag
async def put_plan(
    client_id: uuid.UUID,
    body: PlanDocumentIO,
    principal: CurrentPrincipal,
    plans: Plans,
    response: Response,
    if_match: IfMatch = None,
) -> PlanOut:
    plan = await plans.write(principal, client_id, body.to_domain(), expected_version=parse_if_match(if_match))
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.of(plan)


@plans_router.get("/versions/{version}", summary="An earlier version of the plan", responses=_NOT_FOUND)
async def get_plan_version(
    client_id: uuid.UUID, version: Annotated[int, Path(ge=1, le=MAX_INT)], principal: CurrentPrincipal, plans: Plans
) -> PlanOut:
    return PlanOut.of(await plans.version(principal, client_id, version))


@plans_router.post(
    "/acknowledgement",
    status_code=status.HTTP_201_CREATED,
    summary="Acknowledge the plan (the client)",
    description="`201` with the new acknowledgement; `200` with the existing one when this version was acknowledged "
    "already (nothing new is recorded).",
    responses={
        200: {
            "model": AcknowledgementOut,
            "description": "This version was acknowledged already: that acknowledgement",
        },
        **_NOT_FOUND,
        412: {"description": "The plan changed since you read it"},
    },
)
async def acknowledge_plan(
    client_id: uuid.UUID, body: Acknowledge, principal: CurrentPrincipal, plans: Plans, response: Response
) -> AcknowledgementOut:
    done = await plans.acknowledge(principal, client_id, body.version)
    if not done.created:
        response.status_code = status.HTTP_200_OK
    ack = done.acknowledgement
    return AcknowledgementOut(plan_id=ack.plan_id, version=ack.version, acknowledged_at=ack.acknowledged_at)


@notes_router.get("/appointments/{appointment_id}/note", summary="The session's progress note", responses=_NOT_FOUND)
@sets_etag
async def get_note(appointment_id: uuid.UUID, principal: CurrentPrincipal, notes: Notes, response: Response) -> NoteOut:
    note = await notes.get(principal, appointment_id)
    response.headers["ETag"] = etag(note.version)
    return NoteOut.of(note)


@notes_router.put(
    "/appointments/{appointment_id}/note",
    summary='Save the session\'s note as a draft (create with If-Match "v0")',
    description="A completed session only. A signed note cannot change (`409 note_signed`): add an addendum.",
    responses={**_VERSIONED, 409: {"description": "`note_signed`, `session_not_completed`, `note_exists`"}},
)
@sets_etag
async def put_note(
    appointment_id: uuid.UUID,
    body: NoteDocumentIO,
    principal: CurrentPrincipal,
    notes: Notes,
    response: Response,
    if_match: IfMatch = None,
) -> NoteOut:
    note = await notes.save(principal, appointment_id, body.to_domain(), expected_version=parse_if_match(if_match))
    response.headers["ETag"] = etag(note.version)
    return NoteOut.of(note)


@notes_router.post(
    "/notes/{note_id}/sign",
    summary="Sign and lock the note",
    description="Records the content hash and signer; the note's goal ratings join the plan's progress.",
    responses={**_NOT_FOUND, 409: {"description": "`note_signed`"}, 412: {"description": "Stale If-Match"}},
)
@sets_etag
async def sign_note(
    note_id: uuid.UUID, principal: CurrentPrincipal, notes: Notes, response: Response, if_match: IfMatch = None
) -> NoteOut:
    note = await notes.sign(principal, note_id, parse_if_match(if_match) if if_match else None)
    response.headers["ETag"] = etag(note.version)
    return NoteOut.of(note)


@notes_router.post(
    "/notes/{note_id}/addenda",
    status_code=status.HTTP_201_CREATED,
    summary="Add a dated addendum to a signed note",
    responses={**_NOT_FOUND, 409: {"description": "`note_not_signed`"}},
)
async def add_addendum(note_id: uuid.UUID, body: AddAddendum, principal: CurrentPrincipal, notes: Notes) -> NoteOut:
    return NoteOut.of(await notes.add_addendum(principal, note_id, body.text))


@notes_router.get(
    "/notes/todo",
    summary="Completed sessions whose note is missing or unsigned after 72 hours",
    description="Oldest session first.",
)
async def notes_todo(principal: CurrentPrincipal, notes: Notes, limit: Limit = 50, cursor: Cursor = None) -> Todos:
    page, next_cursor = page_out(
        await notes.todo(principal, after=parse_time_id_cursor(cursor), limit=limit),
        lambda t: (t.ended_at, t.appointment_id),
    )
    return Todos(items=[TodoOut.of(t) for t in page], next_cursor=next_cursor)


@notes_router.post(
    "/clients/{client_id}/psychotherapy-notes",
    status_code=status.HTTP_201_CREATED,
    summary="Write a psychotherapy note (readable only by you)",
    description="Kept apart from the record: never shown to the client, a practice admin, an integrator or an export.",
    responses=_NOT_FOUND,
)
async def create_psychotherapy_note(
    client_id: uuid.UUID, body: PsychotherapyIn, principal: CurrentPrincipal, notes: Notes
) -> PsychotherapyOut:
    return PsychotherapyOut.of(await notes.write_psychotherapy(principal, client_id, body.text, body.appointment_id))


@notes_router.get(
    "/clients/{client_id}/psychotherapy-notes",
    summary="My psychotherapy notes about a client",
    description="Oldest first.",
    responses=_NOT_FOUND,
)
async def list_psychotherapy_notes(
    client_id: uuid.UUID, principal: CurrentPrincipal, notes: Notes, limit: Limit = 50, cursor: Cursor = None
) -> PsychotherapyList:
    page, next_cursor = page_out(
        await notes.list_psychotherapy(principal, client_id, after=parse_time_id_cursor(cursor), limit=limit),
        lambda n: (n.created_at, n.id),
    )
    return PsychotherapyList(items=[PsychotherapyOut.of(n) for n in page], next_cursor=next_cursor)


@notes_router.get("/psychotherapy-notes/{note_id}", summary="One of my psychotherapy notes", responses=_NOT_FOUND)
@sets_etag
async def get_psychotherapy_note(
    note_id: uuid.UUID, principal: CurrentPrincipal, notes: Notes, response: Response
) -> PsychotherapyOut:
    note = await notes.read_psychotherapy(principal, note_id)
    response.headers["ETag"] = etag(note.version)
    return PsychotherapyOut.of(note)


@notes_router.put("/psychotherapy-notes/{note_id}", summary="Edit one of my psychotherapy notes", responses=_VERSIONED)
@sets_etag
async def put_psychotherapy_note(
    note_id: uuid.UUID,
    body: PsychotherapyEdit,
    principal: CurrentPrincipal,
    notes: Notes,
    response: Response,
    if_match: IfMatch = None,
) -> PsychotherapyOut:
    note = await notes.edit_psychotherapy(principal, note_id, body.text, expected_version=parse_if_match(if_match))
    response.headers["ETag"] = etag(note.version)
    return PsychotherapyOut.of(note)
