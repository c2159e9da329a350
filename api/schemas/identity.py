"""Contract models for registration, tokens and the current user."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.schemas.types import RequestModel
from domain.identity.service import Me, TokenPair


class RegisterRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "dana@example.com",
                    "password": "correct horse battery staple",
                    "role": "therapist",
                    "display_name": "Dana Reyes, LMHC",
                    "timezone": "America/New_York",
                }
            ]
        },
    )

    email: EmailStr = Field(max_length=320)
    password: str = Field(
        min_length=1, max_length=256, description="At least 12 characters; common passwords are refused"
    )
    role: Literal["therapist", "client"]
    display_name: str = Field(min_length=1, max_length=120)
    timezone: str = Field(min_length=1, max_length=64, examples=["America/New_York"], description="IANA time zone")


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Literal["client", "therapist", "practice_admin"]
    display_name: str
    timezone: str
    practice_id: uuid.UUID | None
    phone: str | None

    @classmethod
    def of(cls, me: Me) -> UserOut:
        u = me.user
        return cls(
            id=u.id,
            email=u.email,
            role=u.role.value,
            display_name=u.display_name,
            timezone=u.timezone,
            practice_id=me.practice_id,
            phone=u.phone,
        )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    idle_timeout: int = Field(description="Seconds without user activity after which the login session ends")
    idle_expires_in: int = Field(
        description="Seconds until the login session ends unless a refresh declares activity (`idle_seconds`) "
        "before then"
    )

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            idle_timeout=int(pair.idle_timeout.total_seconds()),
            # Rounded down: a client that signs out on time must not be told it has longer than it has.
            idle_expires_in=max(0, int(pair.idle_left.total_seconds())),
        )


class LogoutRequest(RequestModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(
        default=None,
        max_length=200,
        description="Omit to use the httpOnly refresh cookie (the SPA); mobile apps and integrators send it here",
    )


class RefreshRequest(LogoutRequest):
    idle_seconds: int | None = Field(
        default=None,
        ge=0,
        le=2**31 - 1,
        description="Seconds since the user last used the app (input, or bringing it to the foreground). A refresh "
        "made for a background request sends how long the user has been away, so it does not count as activity: "
        "the idle limit runs from now minus this, never later than now. Omitted, the refresh itself counts as "
        "activity.",
    )


class UpdateMe(RequestModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=120)
    timezone: str = Field(min_length=1, max_length=64)
    phone: str | None = Field(
        default=None,
        max_length=32,
        description="For SMS reminders and phone sessions, in international form; spaces, dashes, brackets and a "
        'leading "00" are accepted, and it is stored as E.164.',
    )
