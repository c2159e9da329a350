"""Therapist profiles, office hours, the directory and slot search."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import TypeAdapter
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from api.deps import CurrentPrincipal, Scheduling
from api.errors import ApiProblem
from api.etags import etag, parse_if_match, sets_etag
from api.pagination import id_cursor, parse_id_cursor
from api.schemas.scheduling import (
    Minutes,
    ModalityName,
    OfficeHoursIO,
    ProfileIn,
    ProfileOut,
    PublicProfile,
    Slots,
    TherapistPage,
)
from api.schemas.types import Rfc3339
from domain.scheduling.model import Modality
from domain.scheduling.service import SlotSearch

router = APIRouter(prefix="/api/v1/therapists", tags=["therapists"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such therapist (`not_found`)"}}


@router.get("/me/profile", summary="My therapist profile", response_description="The profile; ETag header")
@sets_etag
async def get_my_profile(principal: CurrentPrincipal, scheduling: Scheduling, response: Response) -> ProfileOut:
    profile = await scheduling.my_profile(principal)
    response.headers["ETag"] = etag(profile.version)
    return ProfileOut.of(profile)


@router.put(
    "/me/profile",
    summary="Replace my therapist profile",
    description="Send `If-Match` with the ETag from GET; a stale write is `412 precondition_failed`.",
    responses={412: {"description": "The profile changed since it was read"}, 428: {"description": "No If-Match"}},
)
@sets_etag
async def put_my_profile(
    body: ProfileIn,
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> ProfileOut:
    version = parse_if_match(if_match)
    profile = await scheduling.update_profile(principal, body.to_domain(), expected_version=version)
    response.headers["ETag"] = etag(profile.version)
    return ProfileOut.of(profile)


@router.get("/me/office-hours", summary="My office hours")
async def get_my_office_hours(principal: CurrentPrincipal, scheduling: Scheduling) -> OfficeHoursIO:
    return OfficeHoursIO.of(await scheduling.my_office_hours(principal))


@router.put("/me/office-hours", summary="Replace my office hours")
async def put_my_office_hours(
    body: OfficeHoursIO, principal: CurrentPrincipal, scheduling: Scheduling
) -> OfficeHoursIO:
    return OfficeHoursIO.of(await scheduling.set_office_hours(principal, body.to_domain()))


@router.get("", summary="Therapists accepting new clients")
async def list_therapists(
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TherapistPage:
    found = await scheduling.directory(after=parse_id_cursor(cursor), limit=limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return TherapistPage(
        items=[PublicProfile.of(p) for p in items],
        next_cursor=id_cursor(items[-1].therapist_id) if more else None,
    )


@router.get("/{therapist_id}", summary="A therapist's public profile", responses=_NOT_FOUND)
async def get_therapist(therapist_id: uuid.UUID, principal: CurrentPrincipal, scheduling: Scheduling) -> PublicProfile:
    return PublicProfile.of(await scheduling.public_profile(therapist_id))


class _SlotDoc(TypedDict):
    start: datetime
    end: datetime


class _SlotsDoc(TypedDict):
    timezone: str
    duration_minutes: int
    modality: str
    slots: list[_SlotDoc]


# Slot search is the hottest read: serialise plain dicts in pydantic-core instead of building (and then
# re-validating) a model per slot. The documented shape is still `Slots`; tests compare the two.
_SLOTS_JSON: TypeAdapter[_SlotsDoc] = TypeAdapter(_SlotsDoc)


@router.get(
    "/{therapist_id}/slots",
    response_model=Slots,
    summary="Free start times for a session length and modality",
    description="Times are UTC; `timezone` is the therapist's zone. At most 31 days per request.",
    responses=_NOT_FOUND,
)
async def get_slots(
    therapist_id: uuid.UUID,
    principal: CurrentPrincipal,
    scheduling: Scheduling,
    start: Annotated[Rfc3339, Query()],
    end: Annotated[Rfc3339, Query()],
    duration_minutes: Annotated[Minutes, Query()],
    modality: Annotated[ModalityName, Query()] = "video",
    step_minutes: Annotated[int, Query(ge=5, le=60, multiple_of=5)] = 15,
) -> Response:
    if end <= start or end - start > timedelta(days=31):
        raise ApiProblem(422, "invalid_window", "`end` must be after `start` and at most 31 days later.")
    result = await scheduling.slots(
        SlotSearch(therapist_id, start, end, duration_minutes, Modality(modality), step_minutes)
    )
    document: _SlotsDoc = {
        "timezone": result.timezone,
        "duration_minutes": duration_minutes,
        "modality": modality,
        "slots": [{"start": s.start, "end": s.end} for s in result.slots],
    }
    return Response(_SLOTS_JSON.dump_json(document), media_type="application/json")
