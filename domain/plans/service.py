"""Therapy plan use cases: read, write new versions, acknowledge, progress history. Every read and write is
audited; documents are sealed under the client record's data key, bound to their plan and version."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.audit.events import AuditEvent, event_by
from domain.plans.access import acknowledgeable_plan_or_404, readable_plan_or_404
from domain.plans.model import (
    Acknowledgement,
    GoalRating,
    PlanDocument,
    ProgressEntry,
    TherapyPlan,
    acknowledge,
    acknowledgement_of,
    apply_score,
    for_client,
    history_by_goal,
    new_plan,
    record_progress,
    revise,
)
from domain.plans.ports import PlanRow, PlansUnitOfWork, PlanVersionRow
from domain.shared.cipher import AadContext, PayloadCipher, WrappedDataKey
from domain.shared.errors import NotFound, StaleVersion, ValidationFailed
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role
from domain.shared.records import record_key


@dataclass(frozen=True, slots=True)
class PlanView:
    plan: TherapyPlan
    acknowledgement: Acknowledgement | None
    progress: dict[uuid.UUID, tuple[ProgressEntry, ...]]


@dataclass(frozen=True, slots=True)
class Acknowledged:
    acknowledgement: Acknowledgement
    created: bool  # False: the version was acknowledged already, and this one wrote nothing


def _version_aad(plan_id: uuid.UUID, version: int) -> AadContext:
    return AadContext.of("therapy_plan_versions", plan_id, "body", version=version)


def _progress_aad(entry_id: uuid.UUID, plan_id: uuid.UUID) -> AadContext:
    return AadContext.of("plan_progress", entry_id, "body", plan=plan_id)


class PlansService:
    def __init__(
        self, uow: Callable[[], PlansUnitOfWork], cipher: PayloadCipher, clock: Clock, ids: IdGenerator
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids

    async def get(self, principal: Principal, client_id: uuid.UUID, therapist_id: uuid.UUID | None = None) -> PlanView:
        async with self._uow() as uow:
            row = await self._row(uow, principal, client_id, therapist_id)
            key = await record_key(uow, self._cipher, self._ids.new, row.client_id, row.practice_id, self._clock.now())
            plan = await self._load(uow, row, key, row.version)
            readable_plan_or_404(principal, plan)
            acks = await uow.plans.acknowledgements(row.id)
            entries = [
                ProgressEntry.from_dict(json.loads(self._cipher.open(body, key, _progress_aad(entry_id, row.id))))
                for entry_id, body in await uow.plans.progress(row.id)
            ]
            if principal.role is Role.CLIENT:
                entries = [for_client(e) for e in entries]
            await uow.audit.append(self._event(principal, "plan.read", row.id))
            await uow.commit()
        return PlanView(plan, acknowledgement_of(plan, acks), history_by_goal(entries))

    async def version(self, principal: Principal, client_id: uuid.UUID, version: int) -> TherapyPlan:
        async with self._uow() as uow:
            row = await self._row(uow, principal, client_id, None)
            key = await record_key(uow, self._cipher, self._ids.new, row.client_id, row.practice_id, self._clock.now())
            plan = readable_plan_or_404(principal, await self._load(uow, row, key, version))
            await uow.audit.append(self._event(principal, "plan.read_version", row.id))
            await uow.commit()
        return plan

    async def write(
        self, principal: Principal, client_id: uuid.UUID, document: PlanDocument, *, expected_version: int
    ) -> TherapyPlan:
        """Version 1 when `expected_version` is 0, else the next version of the therapist's plan for the client."""
        if principal.role is not Role.THERAPIST or principal.practice_id is None:
            raise NotFound("No such therapy plan.")
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.care.is_active(client_id, principal.user_id):
                raise NotFound("No such client.")
            row = await uow.plans.for_relationship(client_id, principal.user_id, for_update=True)
            key = await record_key(uow, self._cipher, self._ids.new, client_id, principal.practice_id, now)
            if row is None:
                if expected_version != 0:
                    raise StaleVersion("There is no plan yet; create it from version 0.")
                plan = new_plan(
                    id=self._ids.new(),
                    practice_id=principal.practice_id,
                    therapist_id=principal.user_id,
                    client_id=client_id,
                    document=document,
                    created_at=now,
                )
                key_id = await uow.client_records.key_id(client_id, principal.practice_id)
                assert key_id is not None
                await uow.plans.add(
                    PlanRow(plan.id, plan.practice_id, plan.therapist_id, plan.client_id, 1, now), key_id
                )
            else:
                current = await self._load(uow, row, key, row.version)
                plan = revise(current, document, expected_version=expected_version, by=principal.user_id, at=now)
                if plan is current:
                    return current
                await uow.plans.set_version(plan.id, plan.version, now)
            sealed = self._cipher.seal(json.dumps(plan.document.to_dict()), key, _version_aad(plan.id, plan.version))
            await uow.plans.add_version(PlanVersionRow(plan.id, plan.version, sealed, principal.user_id, now))
            await uow.audit.append(self._event(principal, "plan.write", plan.id))
            await uow.commit()
        return plan

    async def acknowledge(self, principal: Principal, client_id: uuid.UUID, version: int) -> Acknowledged:
        """The client acknowledges the plan's current version. Again for a version already acknowledged: that
        acknowledgement, and nothing is written."""
        now = self._clock.now()
        async with self._uow() as uow:
            row = await self._row(uow, principal, client_id, None)
            key = await record_key(uow, self._cipher, self._ids.new, row.client_id, row.practice_id, now)
            plan = acknowledgeable_plan_or_404(principal, await self._load(uow, row, key, row.version))
            ack = acknowledge(plan, client_id=principal.user_id, version=version, at=now)
            existing = acknowledgement_of(plan, await uow.plans.acknowledgements(plan.id))
            if existing is None and await uow.plans.add_acknowledgement(ack):
                await uow.audit.append(self._event(principal, "plan.acknowledge", plan.id))
                await uow.commit()
                return Acknowledged(ack, created=True)
            if existing is None:  # a concurrent request acknowledged it first, and has committed
                existing = acknowledgement_of(plan, await uow.plans.acknowledgements(plan.id))
                assert existing is not None
        return Acknowledged(existing, created=False)

    async def record_progress_in(
        self,
        uow: PlansUnitOfWork,
        client_id: uuid.UUID,
        therapist_id: uuid.UUID,
        ratings: Sequence[GoalRating],
        *,
        note_id: uuid.UUID,
        on: date,
        at: datetime,
    ) -> None:
        """Inside the signing transaction of a note: its goal ratings join the plan's progress history."""
        if not ratings:
            return
        row = await uow.plans.for_relationship(client_id, therapist_id)
        if row is None:
            raise ValidationFailed(
                "The note rates goals, but the client has no plan.", code="unknown_goal", field="ratings"
            )
        key = await record_key(uow, self._cipher, self._ids.new, client_id, row.practice_id, at)
        plan = await self._load(uow, row, key, row.version)
        for entry in record_progress(plan, ratings, note_id=note_id, on=on, at=at):
            entry_id = self._ids.new()
            sealed = self._cipher.seal(json.dumps(entry.to_dict()), key, _progress_aad(entry_id, plan.id))
            await uow.plans.add_progress(entry_id, plan.id, note_id, entry.goal_id, at, sealed)

    async def apply_score_in(
        self,
        uow: PlansUnitOfWork,
        client_id: uuid.UUID,
        therapist_id: uuid.UUID,
        instrument: str,
        total: int,
        at: datetime,
    ) -> TherapyPlan | None:
        """Inside the scoring transaction: objectives with a numeric target on this instrument take their new
        status; a change is a new plan version written on behalf of the therapist."""
        row = await uow.plans.for_relationship(client_id, therapist_id, for_update=True)
        if row is None:
            return None
        key = await record_key(uow, self._cipher, self._ids.new, client_id, row.practice_id, at)
        current = await self._load(uow, row, key, row.version)
        document = apply_score(current.document, instrument, total)
        if document == current.document:
            return None
        plan = revise(current, document, expected_version=current.version, by=therapist_id, at=at)
        await uow.plans.set_version(plan.id, plan.version, at)
        sealed = self._cipher.seal(json.dumps(plan.document.to_dict()), key, _version_aad(plan.id, plan.version))
        await uow.plans.add_version(PlanVersionRow(plan.id, plan.version, sealed, therapist_id, at))
        return plan

    async def _row(
        self, uow: PlansUnitOfWork, principal: Principal, client_id: uuid.UUID, therapist_id: uuid.UUID | None
    ) -> PlanRow:
        if principal.role is Role.THERAPIST:
            therapist_id = principal.user_id
        if therapist_id is not None:
            row = await uow.plans.for_relationship(client_id, therapist_id)
        else:
            rows = await uow.plans.for_client(client_id)
            if principal.role is not Role.CLIENT and principal.practice_id is not None:
                rows = [r for r in rows if r.practice_id == principal.practice_id]
            row = max(rows, key=lambda r: r.created_at, default=None)
        if row is None:
            raise NotFound("No such therapy plan.")
        return row

    async def _load(self, uow: PlansUnitOfWork, row: PlanRow, key: WrappedDataKey, version: int) -> TherapyPlan:
        stored = await uow.plans.version(row.id, version)
        if stored is None:
            raise NotFound("No such plan version.")
        document = PlanDocument.from_dict(
            json.loads(self._cipher.open(stored.body, key, _version_aad(row.id, version)))
        )
        return TherapyPlan(
            id=row.id,
            practice_id=row.practice_id,
            therapist_id=row.therapist_id,
            client_id=row.client_id,
            version=version,
            document=document,
            created_at=row.created_at,
            updated_at=stored.created_at,
            updated_by=stored.created_by,
        )

    def _event(self, principal: Principal, action: str, plan_id: uuid.UUID) -> AuditEvent:
        return event_by(principal, action, "therapy_plan", plan_id, self._clock.now())
