"""Contract models for a group practice's staff (ADR 18, ADR 21)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.invitations import InvitedRole
from api.schemas.types import RequestModel
from domain.identity.model import User
from domain.identity.staff import Removal, RoleChange


class MemberOut(BaseModel):
    """A therapist or admin of the practice, as its admins see them."""

    id: uuid.UUID
    email: str
    display_name: str
    role: InvitedRole
    status: Literal["active", "deactivated"] = Field(
        description="A deactivated member was removed from the practice: they cannot sign in; their records stay"
    )
    joined_at: datetime
    deactivated_at: datetime | None

    @classmethod
    def of(cls, user: User) -> MemberOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role.value,  # type: ignore[arg-type]
            status="active" if user.active else "deactivated",
            joined_at=user.created_at,
            deactivated_at=user.deactivated_at,
        )


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class DeactivationOut(BaseModel):
    """The removed member and what their removal changed."""

    member: MemberOut
    care_ended: int = Field(
        description="The therapist's care relationships that ended (their conversations stay, read-only)"
    )
    clients_queued: int = Field(description="Of those clients, how many wait in the practice's matching queue again")
    sessions_revoked: int = Field(description="Login sessions ended; their live connections close with code 4401")
    waitlist_entries_closed: int = Field(
        description="Clients who were on the therapist's waitlist: their entries closed, each told by email"
    )

    @classmethod
    def of(cls, removal: Removal) -> DeactivationOut:
        return cls(
            member=MemberOut.of(removal.member),
            care_ended=removal.care_ended,
            clients_queued=removal.clients_queued,
            sessions_revoked=removal.sessions_revoked,
            waitlist_entries_closed=removal.waitlist_entries_closed,
        )


class RoleChangeIn(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "practice_admin"}]})

    role: InvitedRole = Field(description="The member's one role from now on")


class RoleChangeOut(BaseModel):
    """The member in their new role and what the change ended."""

    member: MemberOut
    sessions_revoked: int = Field(
        description="Login sessions ended (their tokens carry the old role); the member signs in again to use the new "
        "one. 0 when the member had the role already"
    )
    waitlist_entries_closed: int = Field(
        description="A therapist made an admin can no longer be booked: the clients on their waitlist, whose entries "
        "closed, each told by email"
    )

    @classmethod
    def of(cls, change: RoleChange) -> RoleChangeOut:
        return cls(
            member=MemberOut.of(change.member),
            sessions_revoked=change.sessions_revoked,
            waitlist_entries_closed=change.waitlist_entries_closed,
        )
