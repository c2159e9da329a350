"""Phone calls in PostgreSQL; the timeline is a JSONB list kept in arrival order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.telephony.errors import CallAlreadyLive
from domain.telephony.model import CallTrigger, PhoneCall, TimelineEntry
from domain.telephony.ports import CallLeg, CallStatus
from infra.db.tables import phone_calls


def _timeline(items: list[dict[str, Any]]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            CallLeg(i["leg"]), CallStatus(i["status"]), datetime.fromisoformat(i["at"]), i["provider_call_id"]
        )
        for i in items
    ]


def _call(r: Any) -> PhoneCall:
    return PhoneCall(
        id=r.id,
        appointment_id=r.appointment_id,
        practice_id=r.practice_id,
        therapist_id=r.therapist_id,
        client_id=r.client_id,
        trigger=CallTrigger(r.trigger),
        status=CallStatus(r.status),
        created_at=r.created_at,
        provider_call_id=r.provider_call_id,
        second_call_id=r.second_call_id,
        therapist_answered_at=r.therapist_answered_at,
        answered_at=r.answered_at,
        ended_at=r.ended_at,
        duration_seconds=r.duration_seconds,
        timeline=_timeline(r.timeline),
    )


def _values(call: PhoneCall) -> dict[str, Any]:
    return {
        "status": call.status.value,
        "provider_call_id": call.provider_call_id,
        "second_call_id": call.second_call_id,
        "therapist_answered_at": call.therapist_answered_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "timeline": [
            {
                "leg": e.leg.value,
                "status": e.status.value,
                "at": e.at.isoformat(),
                "provider_call_id": e.provider_call_id,
            }
            for e in call.timeline
        ],
    }


class SqlPhoneCallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, call: PhoneCall) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    phone_calls.insert().values(
                        id=call.id,
                        appointment_id=call.appointment_id,
                        practice_id=call.practice_id,
                        therapist_id=call.therapist_id,
                        client_id=call.client_id,
                        trigger=call.trigger.value,
                        created_at=call.created_at,
                        **_values(call),
                    )
                )
        except IntegrityError as exc:
            if "uq_phone_calls_live_appointment" in str(exc.orig):
                raise CallAlreadyLive("A call for this session is already under way; hang it up first.") from exc
            raise

    async def get(self, call_id: uuid.UUID, *, for_update: bool = False) -> PhoneCall | None:
        query = sa.select(phone_calls).where(phone_calls.c.id == call_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _call(row) if row else None

    async def save(self, call: PhoneCall) -> None:
        await self._s.execute(phone_calls.update().where(phone_calls.c.id == call.id).values(**_values(call)))

    async def for_appointment(self, appointment_id: uuid.UUID) -> list[PhoneCall]:
        rows = await self._s.execute(
            sa.select(phone_calls)
            .where(phone_calls.c.appointment_id == appointment_id)
            .order_by(phone_calls.c.created_at, phone_calls.c.id)
        )
        return [_call(r) for r in rows]

    async def latest_for_appointment(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> PhoneCall | None:
        query = (
            sa.select(phone_calls)
            .where(phone_calls.c.appointment_id == appointment_id)
            .order_by(phone_calls.c.created_at.desc(), phone_calls.c.id.desc())
            .limit(1)
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _call(row) if row else None
