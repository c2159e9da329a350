"""Phone numbers and session phone calls. Calls never show a number: neither party learns the other's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.types import RequestModel
from domain.telephony.model import PhoneCall

CallStatusName = Literal["queued", "ringing", "in_progress", "completed", "busy", "no_answer", "failed", "canceled"]


class PhoneNumberOut(BaseModel):
    phone: str | None = Field(description="E.164; the platform calls this number for phone sessions")


class SetPhoneNumber(RequestModel):
    phone: str | None = Field(
        strict=True,
        max_length=32,
        description='International form; spaces, dashes, brackets and a leading "00" are accepted, '
        "e.g. +1 415 555 0123. null removes the number.",
        examples=["+14155550123"],
    )


class CallEventOut(BaseModel):
    leg: Literal["first", "second"] = Field(description="`first` is the therapist's leg, `second` the client's")
    status: CallStatusName
    at: datetime


class PhoneCallOut(BaseModel):
    id: uuid.UUID
    appointment_id: uuid.UUID
    status: CallStatusName = Field(
        description="`queued` then `ringing` (either phone rings) then `in_progress` (both connected), then ended"
    )
    trigger: Literal["therapist", "scheduled"]
    created_at: datetime
    therapist_answered_at: datetime | None
    answered_at: datetime | None = Field(description="When both parties were connected")
    ended_at: datetime | None
    duration_seconds: int | None = Field(description="Connected time")
    timeline: list[CallEventOut]

    @classmethod
    def of(cls, call: PhoneCall) -> PhoneCallOut:
        return cls(
            id=call.id,
            appointment_id=call.appointment_id,
            status=call.status.value,
            trigger=call.trigger.value,
            created_at=call.created_at,
            therapist_answered_at=call.therapist_answered_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            duration_seconds=call.duration_seconds,
            timeline=[CallEventOut(leg=e.leg.value, status=e.status.value, at=e.at) for e in call.timeline],
        )
