"""The current user."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentPrincipal, Identity
from api.schemas.identity import UpdateMe, UserOut

router = APIRouter(prefix="/api/v1", tags=["me"])


@router.get("/me", summary="The signed-in user")
async def get_me(principal: CurrentPrincipal, identity: Identity) -> UserOut:
    return UserOut.of(await identity.me(principal))


@router.put("/me", summary="Update my name, time zone and phone")
async def put_me(body: UpdateMe, principal: CurrentPrincipal, identity: Identity) -> UserOut:
    me = await identity.update_contact(
        principal, display_name=body.display_name, timezone=body.timezone, phone=body.phone
    )
    return UserOut.of(me)
