"""Waitlists and the offers of freed time."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import CurrentPrincipal, Waitlist
from api.pagination import Cursor, Limit, page_out, parse_time_id_cursor
from api.schemas.scheduling import (
    AppointmentOut,
    JoinWaitlistIn,
    LocalRange,
    OfferOut,
    Offers,
    WaitlistEntries,
    WaitlistEntryOut,
    _s,
    _t,
)
from domain.scheduling.model import Modality, TimeRange
from domain.scheduling.waitlist import WaitlistEntry
from domain.scheduling.waitlist_service import JoinWaitlist

router = APIRouter(prefix="/api/v1", tags=["waitlist"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such therapist, entry or offer"}}


def entry_out(e: WaitlistEntry) -> WaitlistEntryOut:
    return WaitlistEntryOut(
        id=e.id,
        therapist_id=e.therapist_id,
        client_id=e.client_id,
        timezone=e.timezone,
        durations=list(e.durations),
        weekdays=sorted(e.weekdays),
        time_ranges=[LocalRange(start=_s(r.start, False), end=_s(r.end, True)) for r in e.time_ranges],
        modality=e.modality.value if e.modality else None,
        created_at=e.created_at,
    )


@router.post(
    "/therapists/{therapist_id}/waitlist",
    status_code=status.HTTP_201_CREATED,
    summary="Join a therapist's waitlist",
    description="Preferred weekdays and times are read in your own time zone. When a matching time frees up "
    "you get an offer (and an email); the first to claim it books it.",
    responses={**_NOT_FOUND, 409: {"description": "`already_waitlisted`"}},
)
async def join_waitlist(
    therapist_id: uuid.UUID, body: JoinWaitlistIn, principal: CurrentPrincipal, waitlist: Waitlist
) -> WaitlistEntryOut:
    entry = await waitlist.join(
        principal,
        JoinWaitlist(
            therapist_id=therapist_id,
            durations=tuple(body.durations),
            weekdays=frozenset(body.weekdays),
            time_ranges=tuple(TimeRange(_t(r.start), _t(r.end)) for r in body.time_ranges),
            modality=Modality(body.modality) if body.modality else None,
        ),
    )
    return entry_out(entry)


@router.get(
    "/waitlist", summary="My waitlist entries (clients) or my waitlist (therapists)", description="Oldest first."
)
async def list_waitlist(
    principal: CurrentPrincipal, waitlist: Waitlist, limit: Limit = 50, cursor: Cursor = None
) -> WaitlistEntries:
    page, next_cursor = page_out(
        await waitlist.entries(principal, after=parse_time_id_cursor(cursor), limit=limit),
        lambda e: (e.created_at, e.id),
    )
    return WaitlistEntries(items=[entry_out(e) for e in page], next_cursor=next_cursor)


@router.delete(
    "/waitlist/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave a waitlist",
    responses=_NOT_FOUND,
)
async def leave_waitlist(entry_id: uuid.UUID, principal: CurrentPrincipal, waitlist: Waitlist) -> Response:
    await waitlist.leave(principal, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/waitlist/offers", summary="Open offers of freed time for me", description="Soonest time first.")
async def list_offers(
    principal: CurrentPrincipal, waitlist: Waitlist, limit: Limit = 50, cursor: Cursor = None
) -> Offers:
    page, next_cursor = page_out(
        await waitlist.offers(principal, after=parse_time_id_cursor(cursor), limit=limit),
        lambda o: (o.offer.start, o.id),
    )
    return Offers(
        next_cursor=next_cursor,
        items=[
            OfferOut(
                id=o.id,
                therapist_id=o.therapist_id,
                start=o.offer.start,
                end=o.offer.end,
                duration_minutes=o.offer.duration_minutes,
                modality=o.offer.modality.value,
                expires_at=o.offer.expires_at,
            )
            for o in page
        ],
    )


@router.post(
    "/waitlist/offers/{offer_id}/claim",
    status_code=status.HTTP_201_CREATED,
    summary="Claim an offer: book the freed time",
    responses={
        **_NOT_FOUND,
        409: {"description": "`slot_taken` (someone claimed first), `offer_expired` or `offer_not_open`"},
    },
)
async def claim_offer(offer_id: uuid.UUID, principal: CurrentPrincipal, waitlist: Waitlist) -> AppointmentOut:
    return AppointmentOut.of(await waitlist.claim(principal, offer_id))
