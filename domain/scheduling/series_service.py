"""Recurring series: create with a per-occurrence result, split with "this and following", cancel the rest."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.scheduling.access import can_manage, visible_or_404
from domain.scheduling.model import Appointment, AppointmentStatus, Modality, Money
from domain.scheduling.policy import require_fee_accepted
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.scheduling.recurrence import (
    Occurrence,
    RecurrenceRule,
    Series,
    SeriesChange,
    cancel_this_and_following,
    edit_this_and_following,
    new_series,
    occurrences,
)
from domain.scheduling.service import BookingRequest, SchedulingService, fee_due
from domain.shared.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

# Only booked occurrences are cancelled with their series (one checked in or under way is left alone).
_CANCELLED_WITH_SERIES = frozenset({AppointmentStatus.BOOKED})


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    therapist_id: uuid.UUID
    first_start: datetime
    duration_minutes: int
    modality: Modality
    rule: RecurrenceRule
    client_id: uuid.UUID | None = None
    policy_version: int | None = None  # as in BookingRequest: the version the client was shown


@dataclass(frozen=True, slots=True)
class OccurrenceResult:
    index: int
    start: datetime
    appointment: Appointment | None
    problem: DomainError | None = None


@dataclass(frozen=True, slots=True)
class SeriesResult:
    series: Series
    occurrences: list[OccurrenceResult]


class SeriesService:
    def __init__(
        self, uow: Callable[[], SchedulingUnitOfWork], scheduling: SchedulingService, clock: Clock, ids: IdGenerator
    ) -> None:
        self._uow = uow
        self._scheduling = scheduling
        self._clock = clock
        self._ids = ids

    async def create(self, principal: Principal, request: SeriesRequest) -> SeriesResult:
        async with self._uow() as uow:
            therapist = await uow.users.get(request.therapist_id)
            if therapist is None or therapist.role is not Role.THERAPIST or therapist.practice_id is None:
                raise NotFound("No such therapist.")
            # The same rule as a single booking, checked before the series row exists: a therapist books only
            # for a client in their care (an unknown id was a foreign-key 500, telling ids of users apart).
            client_id = await self._scheduling._booking_client(
                uow,
                principal,
                BookingRequest(
                    therapist_id=therapist.id,
                    start=request.first_start,
                    duration_minutes=request.duration_minutes,
                    modality=request.modality,
                    client_id=request.client_id,
                ),
            )
            profile = await self._scheduling._profile(uow, therapist.id)
            series = new_series(
                id=self._ids.new(),
                therapist_id=therapist.id,
                client_id=client_id,
                practice_id=therapist.practice_id,
                first_start=request.first_start,
                timezone=profile.timezone,
                duration_minutes=request.duration_minutes,
                modality=request.modality,
                rule=request.rule,
                created_at=self._clock.now(),
            )
            await uow.series.add(series)
            results = await self._book_all(uow, principal, series, occurrences(series), request.policy_version)
            if not any(r.appointment for r in results):
                # Nothing could be booked: keep no empty series behind; the first reason is the answer.
                assert results[0].problem is not None
                raise results[0].problem
            await uow.commit()
        return SeriesResult(series, results)

    async def _book_all(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        series: Series,
        items: list[Occurrence],
        policy_version: int | None = None,
    ) -> list[OccurrenceResult]:
        results = []
        for occurrence in items:
            try:
                appointment = await self._scheduling.book_in(
                    uow,
                    principal,
                    BookingRequest(
                        therapist_id=series.therapist_id,
                        start=occurrence.start,
                        duration_minutes=occurrence.duration_minutes,
                        modality=occurrence.modality,
                        client_id=series.client_id,
                        # A changed policy fails every date alike, so the series fails with `policy_changed`.
                        policy_version=policy_version,
                    ),
                    series_id=series.id,
                    series_index=occurrence.index,
                    enforce_horizon=occurrence.index > 0,
                )
                results.append(OccurrenceResult(occurrence.index, occurrence.start, appointment))
            except DomainError as problem:
                results.append(OccurrenceResult(occurrence.index, occurrence.start, None, problem))
        return results

    async def edit_following(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        new_start: datetime,
        duration_minutes: int | None = None,
    ) -> SeriesResult:
        async with self._uow() as uow:
            target, series, members = await self._load(uow, principal, appointment_id)
            change = edit_this_and_following(
                series,
                members,
                target,
                new_series_id=self._ids.new(),
                new_start=new_start,
                now=self._clock.now(),
                duration_minutes=duration_minutes,
            )
            await self._cancel(uow, principal, members, change)
            assert change.new_series is not None
            await uow.series.add(change.new_series)
            results = await self._book_all(uow, principal, change.new_series, list(change.create))
            first = results[0] if results else None
            if first is not None and first.problem is not None:
                # The moved occurrence itself cannot go there: refuse the whole change, leaving the series as it
                # was (its later occurrences are not cancelled for a move that did not happen).
                raise first.problem
            await uow.commit()
        return SeriesResult(change.new_series, results)

    async def cancel_following(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        reason: str | None = None,
        accepted_fee: Money | None = None,
    ) -> list[Appointment]:
        """Each occurrence is cancelled as a plain cancel would be: inside the policy's window a client's is late
        (and billed), the reason is kept, the freed times are offered to the waitlist. The late ones' fees
        together need the client's acceptance (`accepted_fee`), as a plain cancel's fee does."""
        async with self._uow() as uow:
            target, series, members = await self._load(uow, principal, appointment_id)
            now = self._clock.now()
            change = cancel_this_and_following(series, members, target, now=now)
            await self._require_fees_accepted(uow, principal, target, members, change, accepted_fee, now)
            cancelled = await self._cancel(uow, principal, members, change, reason=reason, abandon_at=now)
            if all(a.id != target.id for a in cancelled):
                raise InvalidState(f"A session that is {target.status.value} cannot be cancelled with its series.")
            await uow.commit()
        return cancelled

    async def _require_fees_accepted(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        target: Appointment,
        members: list[Appointment],
        change: SeriesChange,
        accepted: Money | None,
        now: datetime,
    ) -> None:
        """Refuse (`LateFeeNotAccepted`, with the target's terms) unless the client accepted exactly the sum of
        the late-cancellation fees this cancel would charge."""
        if target.status not in _CANCELLED_WITH_SERIES:
            return  # refused as `invalid_state` by the caller; nothing to accept
        by_id = {a.id: a for a in members}
        due: list[Money] = []
        target_terms = None
        for appointment_id in change.cancel:
            appointment = by_id[appointment_id]
            if appointment.status not in _CANCELLED_WITH_SERIES:
                continue
            terms = await self._scheduling.terms_in(uow, principal, appointment, now)
            if appointment.id == target.id:
                target_terms = terms
            fee = fee_due(terms)
            if fee is not None:
                due.append(fee)
        if not due:
            return
        assert target_terms is not None  # the target is the first occurrence cancelled
        currency = due[0].currency
        if any(fee.currency != currency for fee in due):
            raise ValidationFailed(
                "These sessions' fees differ in currency: cancel them one by one.", code="currency_mismatch"
            )
        require_fee_accepted(Money(sum(fee.amount_minor for fee in due), currency), accepted, target_terms)

    async def _load(
        self, uow: SchedulingUnitOfWork, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[Appointment, Series, list[Appointment]]:
        target = visible_or_404(principal, await uow.appointments.get(appointment_id, for_update=True))
        if not can_manage(principal, target):
            raise Forbidden("Only the session's participants can change it.")
        series = await uow.series.get(target.series_id) if target.series_id else None
        if series is None:
            raise NotFound("This appointment is not part of a series.", code="not_in_series")
        return target, series, await uow.appointments.for_series(series.id)

    async def _cancel(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        members: list[Appointment],
        change: SeriesChange,
        *,
        reason: str | None = None,
        abandon_at: datetime | None = None,
    ) -> list[Appointment]:
        """Without `abandon_at`, the occurrences are replaced (a move of the series): never a late cancellation,
        whoever edits the series. With it, they are abandoned at that moment, each as a plain cancel would be
        (times offered to the waitlist)."""
        by_id = {a.id: a for a in members}
        cancelled = []
        for appointment_id in change.cancel:
            appointment = by_id[appointment_id]
            if appointment.status not in _CANCELLED_WITH_SERIES:
                continue
            if abandon_at is not None:
                await self._scheduling.abandon_in(uow, principal, appointment, reason, now=abandon_at)
            else:
                self._scheduling.cancel_in(uow, principal, appointment, "Series changed", 0)
                await uow.appointments.save(appointment)
                await uow.reminders.cancel_pending(appointment.id)
            cancelled.append(appointment)
        if change.updated_series is not None:
            await uow.series.save(change.updated_series)
        return cancelled
