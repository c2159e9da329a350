"""A group practice's staff: its admins list the members, remove those who leave (ADR 18), bring them back and
change their role (ADR 21)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import CurrentPrincipal, Staff
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.members import DeactivationOut, MemberOut, MemberPage, RoleChangeIn, RoleChangeOut
from api.session_end import ring_session_end
from domain.shared.principal import Role

router = APIRouter(prefix="/api/v1/practices/{practice_id}/members", tags=["members"])


@router.get(
    "",
    summary="The practice's therapists and admins, deactivated ones included, oldest account first",
    responses={404: {"description": "No such practice (or not yours)"}},
)
async def list_members(
    practice_id: uuid.UUID,
    principal: CurrentPrincipal,
    staff: Staff,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> MemberPage:
    found = await staff.members(principal, practice_id, after=parse_time_id_cursor(cursor), limit=limit + 1)
    items = found[:limit]
    last = items[-1] if items else None
    return MemberPage(
        items=[MemberOut.of(u) for u in items],
        next_cursor=time_id_cursor(last.created_at, last.id) if last and len(found) > limit else None,
    )


@router.post(
    "/{user_id}/deactivate",
    summary="Remove a member from the practice: they can no longer sign in",
    description="Every login session of the member ends at once (refresh tokens stop working, live WebSockets "
    "close with 4401, access tokens already issued stop working). Nothing the practice recorded is "
    "deleted. A therapist's care relationships end: their conversations become read-only, and clients with no "
    "other therapist wait in the practice's matching queue again, their plan going to whoever is assigned. "
    "The therapist's waitlist closes: each waiting client's entry ends (open offers of their time are withdrawn) "
    "and the client is told by email. Removing a removed member again changes nothing.",
    responses={
        404: {"description": "No such member of this practice (or not your practice)"},
        409: {
            "description": "`last_admin`: the practice would have no admin left; `has_upcoming_appointments`: the "
            "therapist still has sessions to hold (their number in `upcoming_appointments`): reschedule or cancel "
            "them first"
        },
    },
)
async def deactivate(
    practice_id: uuid.UUID, user_id: uuid.UUID, principal: CurrentPrincipal, staff: Staff, request: Request
) -> DeactivationOut:
    removal = await staff.deactivate(principal, practice_id, user_id)
    if removal.sessions_revoked:
        await ring_session_end(request, removal.member.id)
    return DeactivationOut.of(removal)


@router.post(
    "/{user_id}/reactivate",
    summary="Bring a removed member back: they can sign in again",
    description="The member signs in afresh (the sessions their removal ended stay ended), and a therapist is listed, "
    "matched and bookable again. What the removal ended stays ended: care relationships (their clients may have "
    "another therapist now) and waitlist entries. Bringing back an active member changes nothing.",
    responses={404: {"description": "No such member of this practice (or not your practice)"}},
)
async def reactivate(
    practice_id: uuid.UUID, user_id: uuid.UUID, principal: CurrentPrincipal, staff: Staff
) -> MemberOut:
    return MemberOut.of(await staff.reactivate(principal, practice_id, user_id))


@router.put(
    "/{user_id}/role",
    summary="Make a member a therapist or a practice admin",
    description="An account has one role, and the member's tokens carry it: every login session of theirs ends at "
    "once (refresh tokens and access tokens already issued stop working, live WebSockets close with 4401) and the "
    "new role holds from their next sign-in. A therapist made an admin is no longer listed, matched or bookable, "
    "and their waitlist closes (each waiting client is told by email). The role the member has already changes "
    "nothing.",
    responses={
        404: {"description": "No such member of this practice (or not your practice)"},
        409: {
            "description": "`last_admin`: the practice would have no admin left; `has_client_records`: the therapist "
            "has had clients or sessions, whose records need a therapist's account; `member_deactivated`: the member "
            "was removed: bring them back first"
        },
    },
)
async def change_role(
    practice_id: uuid.UUID,
    user_id: uuid.UUID,
    body: RoleChangeIn,
    principal: CurrentPrincipal,
    staff: Staff,
    request: Request,
) -> RoleChangeOut:
    change = await staff.change_role(principal, practice_id, user_id, Role(body.role))
    if change.sessions_revoked:
        await ring_session_end(request, change.member.id)
    return RoleChangeOut.of(change)
