"""Contract models for invitations into a group practice."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.schemas.types import RequestModel
from domain.identity.invitations import InvitationPreview, InvitationView

InvitedRole = Literal["therapist", "practice_admin"]


class InviteRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "sam.okafor@example.com", "role": "therapist"}]}
    )

    email: EmailStr = Field(max_length=320, description="Where the link goes; the account is created with it")
    role: InvitedRole


class InvitationOut(BaseModel):
    """An invitation as its practice's admins see it; the token is never shown again after it was emailed."""

    id: uuid.UUID
    practice_id: uuid.UUID
    email: str
    role: InvitedRole
    status: Literal["pending", "expired"] = Field(
        description="An expired invitation can no longer be accepted; invite the address again for a new link"
    )
    invited_by: uuid.UUID | None = Field(description="The admin who invited; null when the operator did")
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, view: InvitationView) -> InvitationOut:
        i = view.invitation
        return cls(
            id=i.id,
            practice_id=i.practice_id,
            email=i.email,
            role=i.role.value,  # type: ignore[arg-type]
            status=view.status.value,  # type: ignore[arg-type]
            invited_by=i.invited_by,
            created_at=i.created_at,
            expires_at=i.expires_at,
        )


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class InvitationPreviewOut(BaseModel):
    """Only what the email already told its reader, to prefill the join form."""

    practice_name: str
    role: InvitedRole
    email: str

    @classmethod
    def of(cls, preview: InvitationPreview) -> InvitationPreviewOut:
        return cls(practice_name=preview.practice_name, role=preview.role.value, email=preview.email)  # type: ignore[arg-type]


class AcceptInvitation(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "sam.okafor@example.com",
                    "password": "correct horse battery staple",
                    "display_name": "Sam Okafor, LCSW",
                    "timezone": "America/Chicago",
                }
            ]
        },
    )

    email: EmailStr = Field(max_length=320, description="The address the invitation was sent to")
    password: str = Field(
        min_length=1, max_length=256, description="At least 12 characters; common passwords are refused"
    )
    display_name: str = Field(min_length=1, max_length=120)
    timezone: str = Field(min_length=1, max_length=64, examples=["America/Chicago"], description="IANA time zone")
