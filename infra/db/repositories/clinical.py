"""PostgreSQL repositories of the clinical record. Bodies are ciphertext; only ids, times and states are clear."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.measures.alerts import CrisisResource, SafetyAlert
from domain.measures.instruments import RiskFlag
from domain.measures.schedule import Assignment, Frequency
from domain.notes.model import CompletedSession, NoteState, Template
from domain.notes.ports import AddendumRow, NoteRow, PsychotherapyRow
from domain.plans.model import Acknowledgement
from domain.plans.ports import PlanRow, PlanVersionRow
from domain.scheduling.model import AppointmentStatus
from domain.shared.errors import Conflict, StaleVersion
from domain.shared.paging import After
from infra.db.keyset import ascending_after
from infra.db.tables import (
    appointments,
    client_records,
    measure_assignments,
    measure_responses,
    note_addenda,
    plan_acknowledgements,
    plan_progress,
    practice_settings,
    psychotherapy_notes,
    safety_alerts,
    session_notes,
    therapy_plan_versions,
    therapy_plans,
)


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

    async def add(self, client_id: uuid.UUID, practice_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> uuid.UUID:
        inserted = await self._s.execute(
            pg_insert(client_records)
            .values(client_id=client_id, practice_id=practice_id, data_key_id=key_id, created_at=now)
            .on_conflict_do_nothing()
            .returning(client_records.c.data_key_id)
        )
        if inserted.first() is not None:
            return key_id
        # The conflicting row was committed (the INSERT waited for it): a new statement sees it.
        stored = await self.key_id(client_id, practice_id)
        assert stored is not None
        return stored


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
    practice_id: uuid.UUID
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

    async def assignments_for_client(
        self,
        client_id: uuid.UUID,
        *,
        therapist_id: uuid.UUID | None = None,
        after: After = None,
        limit: int | None = None,
    ) -> list[Assignment]:
        t = measure_assignments
        query = sa.select(t).where(t.c.client_id == client_id)
        if therapist_id is not None:
            query = query.where(t.c.therapist_id == therapist_id)
        rows = await self._s.execute(ascending_after(query, t.c.created_at, t.c.id, after, limit))
        return [_assignment(r) for r in rows.all()]

    async def assigning_practices(self, client_id: uuid.UUID) -> list[uuid.UUID]:
        t = measure_assignments
        rows = await self._s.execute(
            sa.select(t.c.practice_id).where(t.c.client_id == client_id).distinct().order_by(t.c.practice_id)
        )
        return list(rows.scalars())

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

    async def responses(
        self, client_id: uuid.UUID, practice_ids: Sequence[uuid.UUID], *, after: After = None, limit: int | None = None
    ) -> list[SqlStoredResponse]:
        t = measure_responses
        query = sa.select(t).where(t.c.client_id == client_id, t.c.practice_id.in_(practice_ids))
        rows = await self._s.execute(ascending_after(query, t.c.submitted_at, t.c.id, after, limit))
        return [
            SqlStoredResponse(r.id, r.practice_id, r.assignment_id, r.instrument, r.submitted_at, r.body)
            for r in rows.all()
        ]

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

    async def open_alerts(self, therapist_id: uuid.UUID, *, after: After, limit: int) -> list[SafetyAlert]:
        query = self._alerts().where(
            safety_alerts.c.therapist_id == therapist_id, safety_alerts.c.acknowledged_at.is_(None)
        )
        rows = await self._s.execute(
            ascending_after(query, safety_alerts.c.created_at, safety_alerts.c.id, after, limit)
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


# --- plans ------------------------------------------------------------------------------------------------


def _plan_row(r: Any) -> PlanRow:
    return PlanRow(r.id, r.practice_id, r.therapist_id, r.client_id, r.version, r.created_at)


def _version_row(r: Any) -> PlanVersionRow:
    return PlanVersionRow(r.plan_id, r.version, r.body, r.created_by, r.created_at)


class SqlPlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def for_relationship(
        self, client_id: uuid.UUID, therapist_id: uuid.UUID, *, for_update: bool = False
    ) -> PlanRow | None:
        query = sa.select(therapy_plans).where(
            therapy_plans.c.client_id == client_id, therapy_plans.c.therapist_id == therapist_id
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _plan_row(row) if row else None

    async def for_client(self, client_id: uuid.UUID) -> list[PlanRow]:
        rows = await self._s.execute(sa.select(therapy_plans).where(therapy_plans.c.client_id == client_id))
        return [_plan_row(r) for r in rows.all()]

    async def add(self, row: PlanRow, data_key_id: uuid.UUID) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    therapy_plans.insert().values(
                        id=row.id,
                        client_id=row.client_id,
                        therapist_id=row.therapist_id,
                        practice_id=row.practice_id,
                        data_key_id=data_key_id,
                        version=row.version,
                        created_at=row.created_at,
                        updated_at=row.created_at,
                    )
                )
        except IntegrityError:
            raise StaleVersion("A plan was created meanwhile; reload it.") from None

    async def set_version(self, plan_id: uuid.UUID, version: int, now: datetime) -> None:
        await self._s.execute(
            therapy_plans.update().where(therapy_plans.c.id == plan_id).values(version=version, updated_at=now)
        )

    async def add_version(self, row: PlanVersionRow) -> None:
        await self._s.execute(
            therapy_plan_versions.insert().values(
                plan_id=row.plan_id,
                version=row.version,
                body=row.body,
                created_by=row.created_by,
                created_at=row.created_at,
            )
        )

    async def version(self, plan_id: uuid.UUID, version: int) -> PlanVersionRow | None:
        row = (
            await self._s.execute(
                sa.select(therapy_plan_versions).where(
                    therapy_plan_versions.c.plan_id == plan_id, therapy_plan_versions.c.version == version
                )
            )
        ).first()
        return _version_row(row) if row else None

    async def versions(self, plan_id: uuid.UUID) -> list[PlanVersionRow]:
        rows = await self._s.execute(
            sa.select(therapy_plan_versions)
            .where(therapy_plan_versions.c.plan_id == plan_id)
            .order_by(therapy_plan_versions.c.version)
        )
        return [_version_row(r) for r in rows.all()]

    async def add_acknowledgement(self, ack: Acknowledgement) -> bool:
        inserted = await self._s.execute(
            pg_insert(plan_acknowledgements)
            .values(
                plan_id=ack.plan_id, version=ack.version, client_id=ack.client_id, acknowledged_at=ack.acknowledged_at
            )
            .on_conflict_do_nothing()
            .returning(plan_acknowledgements.c.plan_id)
        )
        return inserted.first() is not None

    async def acknowledgements(self, plan_id: uuid.UUID) -> list[Acknowledgement]:
        rows = await self._s.execute(sa.select(plan_acknowledgements).where(plan_acknowledgements.c.plan_id == plan_id))
        return [Acknowledgement(r.plan_id, r.version, r.client_id, r.acknowledged_at) for r in rows.all()]

    async def add_progress(
        self, entry_id: uuid.UUID, plan_id: uuid.UUID, note_id: uuid.UUID, goal_id: uuid.UUID, at: datetime, body: bytes
    ) -> None:
        await self._s.execute(
            plan_progress.insert().values(
                id=entry_id, plan_id=plan_id, note_id=note_id, goal_id=goal_id, recorded_at=at, body=body
            )
        )

    async def progress(self, plan_id: uuid.UUID) -> list[tuple[uuid.UUID, bytes]]:
        rows = await self._s.execute(
            sa.select(plan_progress.c.id, plan_progress.c.body)
            .where(plan_progress.c.plan_id == plan_id)
            .order_by(plan_progress.c.recorded_at)
        )
        return [(r.id, r.body) for r in rows.all()]


# --- notes ------------------------------------------------------------------------------------------------


def _note_row(r: Any) -> NoteRow:
    return NoteRow(
        id=r.id,
        appointment_id=r.appointment_id,
        practice_id=r.practice_id,
        client_id=r.client_id,
        therapist_id=r.therapist_id,
        data_key_id=r.data_key_id,
        template=Template(r.template),
        state=NoteState(r.status),
        body=r.body,
        content_hash=r.content_hash,
        signed_by=r.signed_by,
        signed_at=r.signed_at,
        version=r.version,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _note_values(row: NoteRow) -> dict[str, Any]:
    return {
        "appointment_id": row.appointment_id,
        "client_id": row.client_id,
        "therapist_id": row.therapist_id,
        "practice_id": row.practice_id,
        "data_key_id": row.data_key_id,
        "template": row.template.value,
        "status": row.state.value,
        "body": row.body,
        "content_hash": row.content_hash,
        "signed_by": row.signed_by,
        "signed_at": row.signed_at,
        "version": row.version,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class SqlNoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _one(self, where: sa.ColumnElement[bool], for_update: bool) -> NoteRow | None:
        query = sa.select(session_notes).where(where)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _note_row(row) if row else None

    async def for_appointment(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> NoteRow | None:
        return await self._one(session_notes.c.appointment_id == appointment_id, for_update)

    async def get(self, note_id: uuid.UUID, *, for_update: bool = False) -> NoteRow | None:
        return await self._one(session_notes.c.id == note_id, for_update)

    async def add(self, row: NoteRow) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(session_notes.insert().values(id=row.id, **_note_values(row)))
        except IntegrityError:
            raise Conflict("This session already has a note.", code="note_exists") from None

    async def save(self, row: NoteRow) -> None:
        await self._s.execute(session_notes.update().where(session_notes.c.id == row.id).values(**_note_values(row)))

    async def add_addendum(self, row: AddendumRow) -> None:
        await self._s.execute(
            note_addenda.insert().values(
                id=row.id, note_id=row.note_id, author_id=row.author_id, created_at=row.created_at, body=row.body
            )
        )

    async def addenda(self, note_id: uuid.UUID) -> list[AddendumRow]:
        rows = await self._s.execute(
            sa.select(note_addenda).where(note_addenda.c.note_id == note_id).order_by(note_addenda.c.created_at)
        )
        return [AddendumRow(r.id, r.note_id, r.author_id, r.created_at, r.body) for r in rows.all()]

    async def unsigned_sessions(
        self,
        therapist_id: uuid.UUID,
        *,
        started_from: datetime,
        ended_before: datetime,
        after: After,
        limit: int,
    ) -> list[tuple[CompletedSession, NoteState | None]]:
        a, n = appointments, session_notes
        query = (
            sa.select(a.c.id, a.c.end_at, n.c.status)
            .select_from(a.outerjoin(n, n.c.appointment_id == a.c.id))
            .where(
                a.c.therapist_id == therapist_id,
                a.c.status == AppointmentStatus.COMPLETED.value,
                a.c.start_at >= started_from,
                a.c.end_at < ended_before,
                sa.or_(n.c.status.is_(None), n.c.status != NoteState.SIGNED.value),
            )
        )
        rows = await self._s.execute(ascending_after(query, a.c.end_at, a.c.id, after, limit))
        return [
            (CompletedSession(r.id, r.end_at), None if r.status is None else NoteState(r.status)) for r in rows.all()
        ]


class SqlPsychotherapyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    @staticmethod
    def _row(r: Any) -> PsychotherapyRow:
        return PsychotherapyRow(
            r.id,
            r.author_id,
            r.client_id,
            r.appointment_id,
            r.data_key_id,
            r.body,
            r.version,
            r.created_at,
            r.updated_at,
        )

    async def get(self, note_id: uuid.UUID, *, for_update: bool = False) -> PsychotherapyRow | None:
        query = sa.select(psychotherapy_notes).where(psychotherapy_notes.c.id == note_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return self._row(row) if row else None

    async def add(self, row: PsychotherapyRow) -> None:
        await self._s.execute(
            psychotherapy_notes.insert().values(
                id=row.id,
                author_id=row.author_id,
                client_id=row.client_id,
                appointment_id=row.appointment_id,
                data_key_id=row.data_key_id,
                body=row.body,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        )

    async def save(self, row: PsychotherapyRow) -> None:
        await self._s.execute(
            psychotherapy_notes.update()
            .where(psychotherapy_notes.c.id == row.id)
            .values(body=row.body, version=row.version, updated_at=row.updated_at)
        )

    async def by_author(
        self, author_id: uuid.UUID, client_id: uuid.UUID, *, after: After, limit: int
    ) -> list[PsychotherapyRow]:
        t = psychotherapy_notes
        query = sa.select(t).where(t.c.author_id == author_id, t.c.client_id == client_id)
        rows = await self._s.execute(ascending_after(query, t.c.created_at, t.c.id, after, limit))
        return [self._row(r) for r in rows.all()]


class SqlPracticeSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def crisis_resources(self, practice_id: uuid.UUID) -> list[CrisisResource] | None:
        stored = (
            await self._s.execute(
                sa.select(practice_settings.c.crisis_resources).where(practice_settings.c.practice_id == practice_id)
            )
        ).scalar_one_or_none()
        return [CrisisResource(**item) for item in stored] if stored else None

    async def set_crisis_resources(self, practice_id: uuid.UUID, resources: list[CrisisResource], at: datetime) -> None:
        doc = [
            {"name": r.name, "phone": r.phone, "text": r.text, "url": r.url, "description": r.description}
            for r in resources
        ]
        await self._s.execute(
            pg_insert(practice_settings)
            .values(practice_id=practice_id, crisis_resources=doc, updated_at=at)
            .on_conflict_do_update(
                index_elements=[practice_settings.c.practice_id], set_={"crisis_resources": doc, "updated_at": at}
            )
        )
