"""Invitations into a group practice: its admins invite, list and withdraw them; the invitee previews one and
creates their account with it (ADR 16)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from api.deps import Container_, CurrentPrincipal, Invitations, RequestId
from api.idempotency import IdempotencyKey, run_idempotent
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.identity import UserOut
from api.schemas.invitations import (
    AcceptInvitation,
    InvitationOut,
    InvitationPage,
    InvitationPreviewOut,
    InviteRequest,
)
from domain.identity.invitations import Acceptance
from domain.identity.service import Me
from domain.shared.principal import Role

router = APIRouter(prefix="/api/v1", tags=["invitations"])

Token = Annotated[str, Path(min_length=1, max_length=100, description="The token from the invitation link")]

_PRACTICE_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such practice (or not yours)"}}
_TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such invitation (`invitation_not_found`)"},
    410: {"description": "`invitation_used`, `invitation_expired` or `invitation_revoked`"},
}


@router.post(
    "/practices/{practice_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a therapist or an admin into the practice (emails them a link)",
    description="The link works once and expires (7 days unless configured otherwise). Inviting an address again "
    "replaces its open invitation, whose link then stops working. Nothing is saved unless the email was handed "
    "to the mail server. An address that already has an account cannot be invited (`email_taken`): accounts do "
    "not move between practices.",
    responses={
        201: {"model": InvitationOut},
        404: _PRACTICE_404[404],
        409: {"description": "`email_taken`, or `idempotency_in_progress`"},
        422: {"description": "`email_refused` (the mail server refused the address), `idempotency_key_reused`"},
        503: {"description": "The email could not be sent (`email_unavailable`); nothing was saved, try again"},
    },
    response_model=InvitationOut,
)
async def create(
    practice_id: uuid.UUID,
    body: InviteRequest,
    principal: CurrentPrincipal,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def invite() -> InvitationOut:
        view = await container.invitations.invite(principal, practice_id, body.email, Role(body.role))
        return InvitationOut.of(view)

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        "invitations-create",
        body,
        status.HTTP_201_CREATED,
        invite,
    )


@router.get(
    "/practices/{practice_id}/invitations",
    summary="The practice's open invitations (pending or expired), newest first",
    responses=_PRACTICE_404,
)
async def list_invitations(
    practice_id: uuid.UUID,
    principal: CurrentPrincipal,
    invitations: Invitations,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> InvitationPage:
    found = await invitations.open_invitations(
        principal, practice_id, after=parse_time_id_cursor(cursor), limit=limit + 1
    )
    items = found[:limit]
    last = items[-1].invitation if items else None
    return InvitationPage(
        items=[InvitationOut.of(v) for v in items],
        next_cursor=time_id_cursor(last.created_at, last.id) if last and len(found) > limit else None,
    )


@router.delete(
    "/practices/{practice_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an invitation: its link stops working",
    responses={
        404: {"description": "No such open invitation in this practice (or not yours)"},
        409: {"description": "It was accepted already (`invitation_used`)"},
    },
)
async def revoke(
    practice_id: uuid.UUID, invitation_id: uuid.UUID, principal: CurrentPrincipal, invitations: Invitations
) -> Response:
    await invitations.revoke(principal, practice_id, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/invitations/{token}",
    summary="What an invitation link offers: the practice, the role and the invited email",
    description="For the join form, before the invitee has an account. Nothing else about the practice is shown.",
    responses=_TOKEN_ERRORS,
)
async def preview(token: Token, invitations: Invitations) -> InvitationPreviewOut:
    return InvitationPreviewOut.of(await invitations.preview(token))


@router.post(
    "/invitations/{token}/accept",
    status_code=status.HTTP_201_CREATED,
    summary="Accept an invitation: create the invited account in the practice",
    description="The email must be the invited one (any letter case). The link works once: of two accepts racing "
    "with it, one creates the account and the other gets `410 invitation_used`. Log in afterwards with "
    "`POST /api/v1/auth/token`.",
    responses={
        **_TOKEN_ERRORS,
        409: {"description": "The email registered since it was invited (`email_taken`)"},
        422: {"description": "`invitation_email_mismatch`, `weak_password`, an unknown time zone"},
    },
)
async def accept(token: Token, body: AcceptInvitation, invitations: Invitations, request_id: RequestId) -> UserOut:
    user = await invitations.accept(
        Acceptance(
            token=token,
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            timezone=body.timezone,
        ),
        request_id=request_id,
    )
    return UserOut.of(Me(user=user, practice_id=user.practice_id))
