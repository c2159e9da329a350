"""The current user."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentPrincipal, Identity
from api.schemas.identity import UserOut

router = APIRouter(prefix="/api/v1", tags=["me"])


@router.get("/me", summary="The signed-in user")
async def get_me(principal: CurrentPrincipal, identity: Identity) -> UserOut:
    return UserOut.of(await identity.me(principal))
