"""PostgreSQL repositories of the clinical record. Bodies are ciphertext; only ids, times and states are clear."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.measures.alerts import SafetyAlert
from domain.measures.instruments import RiskFlag
from domain.measures.schedule import Assignment, Frequency
from infra.db.tables import client_records, measure_assignments, measure_responses, safety_alerts


class SqlClientRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def key_id(self, client_id: uuid.UUID, practice_id: uuid.UUID) -> uuid.UUID | None:
        return (
            await self._s.execute(
                sa.select(client_records.c.data_key_id).where(
                    client_records.c.client_id == client_id, client_records.c.practice_id == practice_id
                )
            )
        ).scalar_one_or_none()

    async def add(self, client_id: uuid.UUID, practice_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(
            pg_insert(client_records)
            .values(client_id=client_id, practice_id=practice_id, data_key_id=key_id, created_at=now)
            .on_conflict_do_nothing()
        )


def _assignment(row: Any) -> Assignment:
    schedule = row.schedule
    return Assignment(
        id=row.id,
        practice_id=row.practice_id,
        client_id=row.client_id,
        therapist_id=row.therapist_id,
        instrument_code=row.instrument,
        frequency=Frequency(schedule["frequency"]),
        starts_at=datetime.fromisoformat(schedule["starts_at"]),
        created_at=row.created_at,
        interval_days=schedule.get("interval_days"),
        lead_hours=schedule.get("lead_hours"),
        ended_at=row.ended_at,
    )


@dataclass(frozen=True, slots=True)
class SqlStoredResponse:
    id: uuid.UUID
    assignment_id: uuid.UUID | None
    instrument: str
    submitted_at: datetime
    body: bytes


def _alert(row: Any) -> SafetyAlert:
    return SafetyAlert(
        id=row.id,
        practice_id=row.practice_id,
        client_id=row.client_id,
        therapist_id=row.therapist_id,
        instrument_code=row.instrument,
        instrument_version=row.instrument_version,
        response_id=row.response_id,
        flags=frozenset({RiskFlag.SUICIDAL_IDEATION}),
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
    )


class SqlMeasuresRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_assignment(self, assignment: Assignment) -> None:
        await self._s.execute(
            measure_assignments.insert().values(
                id=assignment.id,
                client_id=assignment.client_id,
                therapist_id=assignment.therapist_id,
                practice_id=assignment.practice_id,
                instrument=assignment.instrument_code,
                schedule=_schedule(assignment),
                created_at=assignment.created_at,
                ended_at=assignment.ended_at,
            )
        )

    async def assignment(self, assignment_id: uuid.UUID) -> Assignment | None:
        row = (
            await self._s.execute(sa.select(measure_assignments).where(measure_assignments.c.id == assignment_id))
        ).first()
        return _assignment(row) if row else None

    async def assignments_for_client(self, client_id: uuid.UUID) -> list[Assignment]:
        rows = await self._s.execute(
            sa.select(measure_assignments)
            .where(measure_assignments.c.client_id == client_id)
            .order_by(measure_assignments.c.created_at)
        )
        return [_assignment(r) for r in rows.all()]

    async def save_assignment(self, assignment: Assignment) -> None:
        await self._s.execute(
            measure_assignments.update()
            .where(measure_assignments.c.id == assignment.id)
            .values(schedule=_schedule(assignment), ended_at=assignment.ended_at)
        )

    async def add_response(
        self,
        response_id: uuid.UUID,
        assignment: Assignment,
        instrument_version: int,
        submitted_at: datetime,
        body: bytes,
    ) -> None:
        await self._s.execute(
            measure_responses.insert().values(
                id=response_id,
                assignment_id=assignment.id,
                client_id=assignment.client_id,
                therapist_id=assignment.therapist_id,
                practice_id=assignment.practice_id,
                instrument=assignment.instrument_code,
                instrument_version=instrument_version,
                submitted_at=submitted_at,
                body=body,
            )
        )

    async def responses(self, client_id: uuid.UUID, practice_id: uuid.UUID) -> list[SqlStoredResponse]:
        rows = await self._s.execute(
            sa.select(measure_responses)
            .where(measure_responses.c.client_id == client_id, measure_responses.c.practice_id == practice_id)
            .order_by(measure_responses.c.submitted_at)
        )
        return [SqlStoredResponse(r.id, r.assignment_id, r.instrument, r.submitted_at, r.body) for r in rows.all()]

    async def last_completed(self, assignment_id: uuid.UUID) -> datetime | None:
        last: datetime | None = (
            await self._s.execute(
                sa.select(sa.func.max(measure_responses.c.submitted_at)).where(
                    measure_responses.c.assignment_id == assignment_id
                )
            )
        ).scalar_one_or_none()
        return last

    async def add_alert(self, alert: SafetyAlert) -> None:
        await self._s.execute(
            safety_alerts.insert().values(
                id=alert.id,
                client_id=alert.client_id,
                therapist_id=alert.therapist_id,
                practice_id=alert.practice_id,
                response_id=alert.response_id,
                created_at=alert.created_at,
                acknowledged_at=alert.acknowledged_at,
            )
        )

    def _alerts(self) -> sa.Select[Any]:
        return sa.select(safety_alerts, measure_responses.c.instrument, measure_responses.c.instrument_version).join(
            measure_responses, measure_responses.c.id == safety_alerts.c.response_id
        )

    async def alert(self, alert_id: uuid.UUID) -> SafetyAlert | None:
        row = (await self._s.execute(self._alerts().where(safety_alerts.c.id == alert_id))).first()
        return _alert(row) if row else None

    async def open_alerts(self, therapist_id: uuid.UUID) -> list[SafetyAlert]:
        rows = await self._s.execute(
            self._alerts()
            .where(safety_alerts.c.therapist_id == therapist_id, safety_alerts.c.acknowledged_at.is_(None))
            .order_by(safety_alerts.c.created_at)
        )
        return [_alert(r) for r in rows.all()]

    async def save_alert(self, alert: SafetyAlert) -> None:
        await self._s.execute(
            safety_alerts.update().where(safety_alerts.c.id == alert.id).values(acknowledged_at=alert.acknowledged_at)
        )


def _schedule(a: Assignment) -> dict[str, Any]:
    return {
        "frequency": a.frequency.value,
        "starts_at": a.starts_at.isoformat(),
        "interval_days": a.interval_days,
        "lead_hours": a.lead_hours,
    }
