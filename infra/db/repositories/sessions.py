"""Live sessions, their events and their (sealed, short-lived) signaling frames in PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.scheduling.model import Modality
from domain.sessions.model import EventKind, LiveSession, MediaPath, SessionEvent
from domain.sessions.ports import StoredSignal
from infra.db.tables import appointments, live_sessions, practice_session_settings, session_events, session_signals


def _session(r: Any) -> LiveSession:
    return LiveSession(
        appointment_id=r.appointment_id,
        practice_id=r.practice_id,
        modality=Modality(r.modality),
        media_path=MediaPath(r.media_path),
        data_key_id=r.data_key_id,
        created_at=r.created_at,
        auto_admit=r.auto_admit,
        checked_in_at=r.checked_in_at,
        check_in=bytes(r.check_in) if r.check_in is not None else None,
        admitted_at=r.admitted_at,
        ended_at=r.ended_at,
        last_signal_seq=r.last_signal_seq,
    )


def _values(s: LiveSession) -> dict[str, Any]:
    return {
        "modality": s.modality.value,
        "media_path": s.media_path.value,
        "auto_admit": s.auto_admit,
        "checked_in_at": s.checked_in_at,
        "check_in": s.check_in,
        "admitted_at": s.admitted_at,
        "ended_at": s.ended_at,
        "last_signal_seq": s.last_signal_seq,
    }


class SqlLiveSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> LiveSession | None:
        query = sa.select(live_sessions).where(live_sessions.c.appointment_id == appointment_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _session(row) if row else None

    async def add(self, session: LiveSession) -> bool:
        result = await self._s.execute(
            pg_insert(live_sessions)
            .values(
                appointment_id=session.appointment_id,
                practice_id=session.practice_id,
                data_key_id=session.data_key_id,
                created_at=session.created_at,
                **_values(session),
            )
            .on_conflict_do_nothing(index_elements=[live_sessions.c.appointment_id])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def save(self, session: LiveSession) -> None:
        await self._s.execute(
            live_sessions.update()
            .where(live_sessions.c.appointment_id == session.appointment_id)
            .values(**_values(session))
        )

    async def add_event(self, event: SessionEvent) -> None:
        await self._s.execute(
            session_events.insert().values(
                id=event.id,
                appointment_id=event.appointment_id,
                at=event.at,
                kind=event.kind.value,
                actor_id=event.actor_id,
                modality=event.modality.value if event.modality else None,
                detail=event.detail,
            )
        )

    async def events(self, appointment_id: uuid.UUID) -> list[SessionEvent]:
        rows = await self._s.execute(
            sa.select(session_events)
            .where(session_events.c.appointment_id == appointment_id)
            .order_by(session_events.c.at, session_events.c.seq)
        )
        return [
            SessionEvent(
                r.id,
                r.appointment_id,
                r.at,
                EventKind(r.kind),
                r.actor_id,
                Modality(r.modality) if r.modality else None,
                r.detail,
            )
            for r in rows.all()
        ]

    async def add_signal(self, signal: StoredSignal) -> None:
        await self._s.execute(
            session_signals.insert().values(
                appointment_id=signal.appointment_id,
                recipient_id=signal.recipient_id,
                seq=signal.seq,
                sender_id=signal.sender_id,
                kind=signal.kind,
                body=signal.body,
                created_at=signal.created_at,
            )
        )

    async def signals_after(
        self, appointment_id: uuid.UUID, recipient_id: uuid.UUID, after_seq: int, limit: int
    ) -> list[StoredSignal]:
        rows = await self._s.execute(
            sa.select(session_signals)
            .where(
                session_signals.c.appointment_id == appointment_id,
                session_signals.c.recipient_id == recipient_id,
                session_signals.c.seq > after_seq,
            )
            .order_by(session_signals.c.seq)
            .limit(limit)
        )
        return [
            StoredSignal(r.appointment_id, r.seq, r.sender_id, r.recipient_id, r.kind, bytes(r.body), r.created_at)
            for r in rows.all()
        ]

    async def drop_signals(self, appointment_id: uuid.UUID) -> None:
        await self._s.execute(session_signals.delete().where(session_signals.c.appointment_id == appointment_id))

    async def last_check_in(self, client_id: uuid.UUID, *, other_than: uuid.UUID) -> LiveSession | None:
        row = (
            await self._s.execute(
                sa.select(live_sessions)
                .join(appointments, appointments.c.id == live_sessions.c.appointment_id)
                .where(
                    appointments.c.client_id == client_id,
                    live_sessions.c.appointment_id != other_than,
                    live_sessions.c.check_in.is_not(None),
                )
                .order_by(live_sessions.c.checked_in_at.desc())
                .limit(1)
            )
        ).first()
        return _session(row) if row else None

    async def require_relayed(self, practice_id: uuid.UUID) -> bool:
        found = (
            await self._s.execute(
                sa.select(practice_session_settings.c.require_relayed).where(
                    practice_session_settings.c.practice_id == practice_id
                )
            )
        ).scalar_one_or_none()
        return bool(found)

    async def set_require_relayed(self, practice_id: uuid.UUID, required: bool, at: datetime) -> None:
        await self._s.execute(
            pg_insert(practice_session_settings)
            .values(practice_id=practice_id, require_relayed=required, updated_at=at)
            .on_conflict_do_update(
                index_elements=[practice_session_settings.c.practice_id],
                set_={"require_relayed": required, "updated_at": at},
            )
        )
