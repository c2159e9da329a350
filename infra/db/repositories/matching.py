"""PostgreSQL repository for matching: sealed intakes, match records (the queue included), the therapists to
match against with their caseload and busy time, and the care changes a choice makes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.matching.candidates import Candidate, TherapistGender, TherapistTraits
from domain.matching.ports import (
    IntakeStatus,
    MatchMode,
    MatchRecord,
    MatchStatus,
    PracticeCandidate,
    StoredIntake,
    TimeToMatch,
)
from domain.shared.errors import Conflict
from domain.shared.paging import After
from infra.db.keyset import ascending_after
from infra.db.repositories.scheduling import office_hours_of, profile_of
from infra.db.tables import (
    ACTIVE_APPOINTMENT_SQL,
    STAFFED_PROFILE,
    appointments,
    care_relationships,
    intakes,
    matches,
    office_hours,
    therapist_profiles,
    therapy_plans,
)


def _intake(row: Any) -> StoredIntake:
    return StoredIntake(
        id=row.id,
        client_id=row.client_id,
        questionnaire_version=row.questionnaire_version,
        status=IntakeStatus(row.status),
        step=row.step,
        data_key_id=row.data_key_id,
        body=bytes(row.body),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
    )


def _match(row: Any) -> MatchRecord:
    return MatchRecord(
        id=row.id,
        client_id=row.client_id,
        intake_id=row.intake_id,
        intake_submitted_at=row.intake_submitted_at,
        mode=MatchMode(row.mode),
        status=MatchStatus(row.status),
        created_at=row.created_at,
        suggested=tuple(row.suggested),
        queue_practice_id=row.queue_practice_id,
        therapist_id=row.therapist_id,
        practice_id=row.practice_id,
        score=row.score,
        previous_therapist_id=row.previous_therapist_id,
        records_transferred=row.records_transferred,
        chosen_at=row.chosen_at,
    )


def _match_values(r: MatchRecord) -> dict[str, Any]:
    return {
        "client_id": r.client_id,
        "intake_id": r.intake_id,
        "intake_submitted_at": r.intake_submitted_at,
        "mode": r.mode.value,
        "status": r.status.value,
        "created_at": r.created_at,
        "suggested": list(r.suggested),
        "queue_practice_id": r.queue_practice_id,
        "therapist_id": r.therapist_id,
        "practice_id": r.practice_id,
        "score": r.score,
        "previous_therapist_id": r.previous_therapist_id,
        "records_transferred": r.records_transferred,
        "chosen_at": r.chosen_at,
    }


def _traits(row: Any) -> TherapistTraits:
    return TherapistTraits(
        gender=TherapistGender(row.gender) if row.gender else None,
        faith_based=row.faith_based,
        lgbtq_affirming=row.lgbtq_affirming,
        insurance_payers=tuple(row.insurance_payers),
    )


class SqlMatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # --- intakes

    async def draft(self, client_id: uuid.UUID, *, for_update: bool = False) -> StoredIntake | None:
        query = sa.select(intakes).where(intakes.c.client_id == client_id, intakes.c.status == "draft")
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _intake(row) if row else None

    async def latest_submitted(self, client_id: uuid.UUID) -> StoredIntake | None:
        row = (
            await self._s.execute(
                sa.select(intakes)
                .where(intakes.c.client_id == client_id, intakes.c.status == "submitted")
                .order_by(intakes.c.submitted_at.desc(), intakes.c.id)
                .limit(1)
            )
        ).first()
        return _intake(row) if row else None

    async def intake(self, intake_id: uuid.UUID) -> StoredIntake | None:
        row = (await self._s.execute(sa.select(intakes).where(intakes.c.id == intake_id))).first()
        return _intake(row) if row else None

    async def add_intake(self, intake: StoredIntake) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(intakes.insert().values(id=intake.id, **self._intake_values(intake)))
        except IntegrityError:
            raise Conflict("Your intake was saved from elsewhere at the same time; reload.", code="conflict") from None

    async def save_intake(self, intake: StoredIntake) -> None:
        await self._s.execute(intakes.update().where(intakes.c.id == intake.id).values(**self._intake_values(intake)))

    @staticmethod
    def _intake_values(i: StoredIntake) -> dict[str, Any]:
        return {
            "client_id": i.client_id,
            "questionnaire_version": i.questionnaire_version,
            "status": i.status.value,
            "step": i.step,
            "data_key_id": i.data_key_id,
            "body": i.body,
            "revision": i.revision,
            "created_at": i.created_at,
            "updated_at": i.updated_at,
            "submitted_at": i.submitted_at,
        }

    # --- match records

    async def add_match(self, record: MatchRecord) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(matches.insert().values(id=record.id, **_match_values(record)))
        except IntegrityError:
            raise Conflict("You are already waiting in a queue.", code="already_queued") from None

    async def match(self, match_id: uuid.UUID, *, for_update: bool = False) -> MatchRecord | None:
        query = sa.select(matches).where(matches.c.id == match_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _match(row) if row else None

    async def save_match(self, record: MatchRecord) -> None:
        await self._s.execute(matches.update().where(matches.c.id == record.id).values(**_match_values(record)))

    async def close_pending(self, client_id: uuid.UUID) -> None:
        await self._s.execute(
            matches.update()
            .where(matches.c.client_id == client_id, matches.c.status.in_(("open", "queued")))
            .values(status="closed")
        )

    async def queued(
        self, practice_id: uuid.UUID, *, for_update: bool = False, after: After = None, limit: int | None = None
    ) -> list[MatchRecord]:
        query = sa.select(matches).where(matches.c.queue_practice_id == practice_id, matches.c.status == "queued")
        query = ascending_after(query, matches.c.created_at, matches.c.id, after, limit)
        if for_update:
            query = query.with_for_update()
        return [_match(r) for r in (await self._s.execute(query)).all()]

    async def time_to_match(self, practice_id: uuid.UUID) -> TimeToMatch:
        seconds = sa.func.extract("epoch", matches.c.chosen_at - matches.c.intake_submitted_at)
        row = (
            await self._s.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.avg(seconds),
                    sa.func.percentile_cont(0.5).within_group(seconds),
                    sa.func.percentile_cont(0.9).within_group(seconds),
                    sa.func.max(seconds),
                ).where(matches.c.practice_id == practice_id, matches.c.chosen_at.is_not(None))
            )
        ).one()
        count, mean, median, p90, top = row

        def f(value: Any) -> float | None:
            return None if value is None else float(value)

        return TimeToMatch(int(count), f(mean), f(median), f(p90), f(top))

    # --- therapists and care

    async def candidates(
        self,
        *,
        licence: str | None,
        practice_id: uuid.UUID | None,
        therapist_ids: tuple[uuid.UUID, ...] | None = None,
        busy_from: datetime,
        busy_to: datetime,
    ) -> list[PracticeCandidate]:
        caseload = (
            sa.select(sa.func.count())
            .where(care_relationships.c.therapist_id == therapist_profiles.c.therapist_id)
            .where(care_relationships.c.ended_at.is_(None))
            .scalar_subquery()
        )
        query = (
            sa.select(therapist_profiles, caseload.label("caseload"))
            .where(STAFFED_PROFILE)
            .order_by(therapist_profiles.c.therapist_id)
        )
        if therapist_ids is not None:
            query = query.where(therapist_profiles.c.therapist_id.in_(therapist_ids))
        else:
            query = query.where(therapist_profiles.c.accepting_new_clients.is_(True))
        if licence is not None:
            query = query.where(therapist_profiles.c.licenses.contains([licence]))
        if practice_id is not None:
            query = query.where(therapist_profiles.c.practice_id == practice_id)
        rows = (await self._s.execute(query)).all()
        if not rows:
            return []
        ids = [r.therapist_id for r in rows]
        hours = {
            r.therapist_id: office_hours_of(r)
            for r in (await self._s.execute(sa.select(office_hours).where(office_hours.c.therapist_id.in_(ids)))).all()
        }
        busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
        found = await self._s.execute(
            sa.select(appointments.c.therapist_id, appointments.c.start_at, appointments.c.end_at)
            .where(
                appointments.c.therapist_id.in_(ids),
                appointments.c.start_at < busy_to,
                appointments.c.end_at > busy_from,
                sa.text(ACTIVE_APPOINTMENT_SQL),
            )
            .order_by(appointments.c.start_at)
        )
        for therapist_id, start, end in found.all():
            busy[therapist_id].append((start, end))
        return [
            PracticeCandidate(
                Candidate(
                    profile=profile_of(r),
                    caseload=int(r.caseload),
                    traits=_traits(r),
                    office_hours=hours.get(r.therapist_id),
                    busy=tuple(busy.get(r.therapist_id, ())),
                ),
                r.practice_id,
            )
            for r in rows
        ]

    async def practice_therapists(self, practice_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._s.execute(
            sa.select(therapist_profiles.c.therapist_id).where(
                therapist_profiles.c.practice_id == practice_id, STAFFED_PROFILE
            )
        )
        return [r.therapist_id for r in rows.all()]

    async def active_care(self, client_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self._s.execute(
            sa.select(care_relationships.c.therapist_id, care_relationships.c.practice_id)
            .where(care_relationships.c.client_id == client_id, care_relationships.c.ended_at.is_(None))
            .order_by(care_relationships.c.started_at)
        )
        return [(r.therapist_id, r.practice_id) for r in rows.all()]

    async def end_care(self, client_id: uuid.UUID, therapist_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(
            care_relationships.update()
            .where(
                care_relationships.c.client_id == client_id,
                care_relationships.c.therapist_id == therapist_id,
                care_relationships.c.ended_at.is_(None),
            )
            .values(ended_at=now)
        )

    async def clients_in_care(self, therapist_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._s.execute(
            sa.select(care_relationships.c.client_id)
            .where(care_relationships.c.therapist_id == therapist_id, care_relationships.c.ended_at.is_(None))
            .order_by(care_relationships.c.started_at, care_relationships.c.client_id)
        )
        return list(rows.scalars())

    async def pending(self, client_id: uuid.UUID) -> bool:
        found = await self._s.execute(
            sa.select(sa.literal(1)).where(matches.c.client_id == client_id, matches.c.status.in_(("open", "queued")))
        )
        return found.first() is not None

    async def move_plan(
        self, client_id: uuid.UUID, from_therapist: uuid.UUID, to_therapist: uuid.UUID, to_practice: uuid.UUID
    ) -> bool:
        other = therapy_plans.alias("other")  # not correlated with the row being updated
        taken = sa.select(sa.literal(1)).where(other.c.client_id == client_id, other.c.therapist_id == to_therapist)
        taken = taken.correlate_except(other)
        moved = await self._s.execute(
            therapy_plans.update()
            .where(
                therapy_plans.c.client_id == client_id,
                therapy_plans.c.therapist_id == from_therapist,
                ~taken.exists(),
            )
            .values(therapist_id=to_therapist, practice_id=to_practice)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
