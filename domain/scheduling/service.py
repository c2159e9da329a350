"""Scheduling use cases: profiles, office hours, slots, booking, changes and listing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.audit.events import AuditEvent, event_by
from domain.identity.model import User
from domain.scheduling.access import lock_bookable_therapist, managed_or_refused, staff_managed, visible_or_404
from domain.scheduling.model import (
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Modality,
    Money,
    OfficeHours,
    TherapistProfile,
    check_offered,
    ensure_transition,
    new_appointment,
    validate_office_hours,
    validate_profile,
)
from domain.scheduling.policy import CancellationTerms, is_late_cancellation, require_fee_accepted
from domain.scheduling.policy import cancel as apply_cancel
from domain.scheduling.ports import AppointmentQuery, ClientInCare, NewReminder, SchedulingUnitOfWork
from domain.scheduling.reminders import DEFAULT_REMINDER_OFFSETS, reminder_due_times
from domain.scheduling.slots import Slot, available_slots, check_bookable
from domain.shared.errors import Conflict, Forbidden, InvalidState, NotFound, StaleVersion, ValidationFailed
from domain.shared.jobs import JobRequest
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

# Busy time is loaded this far around a requested start: enough for buffers and the local day's limit.
_DAY_MARGIN = timedelta(days=2)
MAX_SLOT_WINDOW = timedelta(days=31)
SEND_REMINDER_JOB = "reminders.send"
# At a phone session's start the platform calls both parties (handled by the telephony service). The payload
# carries the start it was planned for, so a job left behind by a reschedule does nothing.
PHONE_SESSION_CALL_JOB = "telephony.session_call"


@dataclass(frozen=True, slots=True)
class BookingRequest:
    therapist_id: uuid.UUID
    start: datetime
    duration_minutes: int
    modality: Modality
    client_id: uuid.UUID | None = None  # a therapist booking for one of their clients
    # The cancellation policy version the client was shown. Given and no longer current: `409 policy_changed`
    # (they must see the new one). Omitted: the current version is the one recorded as accepted.
    policy_version: int | None = None


@dataclass(frozen=True, slots=True)
class SlotSearch:
    therapist_id: uuid.UUID
    start: datetime
    end: datetime
    duration_minutes: int
    modality: Modality
    step_minutes: int = 15


@dataclass(frozen=True, slots=True)
class SlotResult:
    timezone: str
    slots: list[Slot]


@dataclass(frozen=True, slots=True)
class Freed:
    """An interval given back by a cancellation or a move, for the waitlist."""

    therapist_id: uuid.UUID
    start: datetime
    end: datetime
    modality: Modality
    client_id: uuid.UUID


def default_profile(user: User) -> TherapistProfile:
    return TherapistProfile(therapist_id=user.id, display_name=user.display_name, timezone=user.timezone, version=0)


def default_office_hours(timezone: str) -> OfficeHours:
    return OfficeHours(timezone=timezone, weekly=())


class SchedulingService:
    def __init__(
        self,
        uow: Callable[[], SchedulingUnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        reminder_offsets: tuple[timedelta, ...] = DEFAULT_REMINDER_OFFSETS,
        on_freed: Callable[[SchedulingUnitOfWork, Freed], Awaitable[object]] | None = None,
        on_care: Callable[[SchedulingUnitOfWork, uuid.UUID, uuid.UUID, uuid.UUID], Awaitable[object]] | None = None,
        on_missed: Callable[[SchedulingUnitOfWork, Appointment], Awaitable[object]] | None = None,
        booked_jobs: Callable[[Appointment], Sequence[JobRequest]] | None = None,
        client_came: Callable[[SchedulingUnitOfWork, Appointment], Awaitable[bool]] | None = None,
        late_fee: Callable[[SchedulingUnitOfWork, Appointment], Awaitable[Money | None]] | None = None,
        *,
        join_opens: Callable[[Appointment], datetime],
        took_place: Callable[[SchedulingUnitOfWork, Appointment], Awaitable[bool]],
        complete: Callable[[Principal, uuid.UUID], Awaitable[Appointment]],
    ) -> None:
        # A completion by hand is settled by the live session, in one code path with its end: without it, a
        # session marked completed was never billed.
        self._complete = complete
        # The live session's join window (its rule, configurable) and its attendance. Required, unlike the hooks
        # below: without them a staff status change could start a session days ahead, or one nobody attended.
        self._join_opens = join_opens
        self._took_place = took_place
        # Whether the client joined the session (live sessions know): such a session is no no-show, whoever says.
        self._client_came = client_came
        # Called inside the transaction that late-cancels or marks a no-show: billing adds the policy's fee there,
        # so the fee exists exactly when the status does.
        self._on_missed = on_missed
        # What late-cancelling an appointment would charge its client (billing's fee, the one `on_missed` adds):
        # a client's late cancellation needs their acceptance of exactly that fee.
        self._late_fee = late_fee
        # Jobs other areas want for a new appointment (live sessions: the no-show check), queued in the booking's
        # single enqueue.
        self._booked_jobs = booked_jobs
        # Called inside the booking transaction: messaging opens the pair's conversation there.
        self._on_care = on_care
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._reminder_offsets = reminder_offsets
        # Called inside the transaction that frees time (a cancel, a move, a switch of therapist): the waitlist's
        # offers and their email jobs are written with it, so both happen or neither does.
        self._on_freed = on_freed

    # ------------------------------------------------------------------------------------ profiles

    async def my_profile(self, principal: Principal) -> TherapistProfile:
        _require(principal, Role.THERAPIST)
        async with self._uow() as uow:
            return await self._profile(uow, principal.user_id)

    async def update_profile(
        self, principal: Principal, profile: TherapistProfile, *, expected_version: int
    ) -> TherapistProfile:
        _require(principal, Role.THERAPIST)
        assert principal.practice_id is not None
        profile = replace(profile, therapist_id=principal.user_id, version=expected_version + 1)
        validate_profile(profile)
        async with self._uow() as uow:
            if not await uow.profiles.save(profile, principal.practice_id, expected_version=expected_version):
                raise StaleVersion("The profile changed since you loaded it; reload and try again.")
            await uow.audit.append(self._event(principal, "profile.update", "therapist_profile", principal.user_id))
            await uow.commit()
        return profile

    async def public_profile(self, therapist_id: uuid.UUID) -> TherapistProfile:
        async with self._uow() as uow:
            return await self._profile(uow, therapist_id)

    async def directory(self, *, after: uuid.UUID | None, limit: int) -> list[TherapistProfile]:
        async with self._uow() as uow:
            return await uow.profiles.list_accepting(after=after, limit=limit)

    async def _profile(self, uow: SchedulingUnitOfWork, therapist_id: uuid.UUID) -> TherapistProfile:
        stored = await uow.profiles.get(therapist_id)
        if stored is not None:
            return stored
        user = await uow.users.get(therapist_id)
        if user is None or user.role is not Role.THERAPIST:
            raise NotFound("No such therapist.")
        return default_profile(user)

    # ------------------------------------------------------------------------------------ office hours

    async def my_office_hours(self, principal: Principal) -> OfficeHours:
        _require(principal, Role.THERAPIST)
        async with self._uow() as uow:
            hours = await uow.office_hours.get(principal.user_id)
            if hours is not None:
                return hours
            return default_office_hours((await self._profile(uow, principal.user_id)).timezone)

    async def set_office_hours(self, principal: Principal, hours: OfficeHours) -> OfficeHours:
        _require(principal, Role.THERAPIST)
        validate_office_hours(hours)
        async with self._uow() as uow:
            await uow.appointments.lock_therapist(principal.user_id)
            await uow.office_hours.save(principal.user_id, hours, self._clock.now())
            await uow.audit.append(self._event(principal, "office_hours.update", "office_hours", principal.user_id))
            await uow.commit()
        return hours

    # ------------------------------------------------------------------------------------ slots

    async def slots(self, search: SlotSearch) -> SlotResult:
        if search.end - search.start > MAX_SLOT_WINDOW:
            raise ValidationFailed("Ask for at most 31 days of slots at a time.", code="invalid_window", field="end")
        async with self._uow() as uow:
            # Advisory reads (booking re-checks under the therapist's lock): no snapshot needed.
            uow.without_snapshot()
            profile = await self._profile(uow, search.therapist_id)
            check_offered(profile, search.duration_minutes, search.modality)
            hours = await uow.office_hours.get(search.therapist_id)
            if hours is None:
                return SlotResult(profile.timezone, [])
            busy = await uow.appointments.busy(
                search.therapist_id, search.start - _DAY_MARGIN, search.end + _DAY_MARGIN
            )
        found = available_slots(
            hours,
            busy,
            search.start,
            search.end,
            search.duration_minutes,
            self._clock.now(),
            search.step_minutes,
        )
        return SlotResult(hours.timezone, found)

    # ------------------------------------------------------------------------------------ booking

    async def book(self, principal: Principal, request: BookingRequest) -> Appointment:
        async with self._uow() as uow:
            appointment = await self.book_in(uow, principal, request, recoverable=False)
            await uow.commit()
        return appointment

    async def book_in(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        request: BookingRequest,
        *,
        series_id: uuid.UUID | None = None,
        series_index: int | None = None,
        enforce_horizon: bool = True,
        recoverable: bool = True,
    ) -> Appointment:
        """Book inside the caller's unit of work (series and waitlist claims reuse this exact path).
        `recoverable=False`: a refused time ends the unit of work (a single booking has nothing else to do)."""
        now = self._clock.now()
        client_id = await self._booking_client(uow, principal, request)
        therapist = await uow.users.get(request.therapist_id)
        if (
            therapist is None
            or therapist.role is not Role.THERAPIST
            or therapist.practice_id is None
            or not therapist.active  # removed from their practice (ADR 18)
        ):
            raise NotFound("No such therapist.")
        profile = await self._profile(uow, therapist.id)
        check_offered(profile, request.duration_minutes, request.modality)
        if (
            principal.role is Role.CLIENT
            and not profile.accepting_new_clients
            and not await uow.care.is_active(client_id, therapist.id)
        ):
            raise ValidationFailed("This therapist is not accepting new clients.", code="not_accepting_clients")
        terms = await uow.accepted_policies.current_terms(therapist.id)
        current_version = terms[0] if terms else None
        if request.policy_version is not None and request.policy_version != current_version:
            raise Conflict("The cancellation policy has changed; review it and book again.", code="policy_changed")
        await lock_bookable_therapist(uow, therapist.id)
        hours = await self._hours_under_lock(uow, therapist.id)
        busy = await uow.appointments.blocking_for_therapist(
            therapist.id, request.start - _DAY_MARGIN, request.start + _DAY_MARGIN
        )
        check_bookable(
            hours,
            [(a.start, a.end) for a in busy],
            request.start,
            request.duration_minutes,
            now,
            enforce_horizon=enforce_horizon,
        )
        appointment = new_appointment(
            id=self._ids.new(),
            therapist_id=therapist.id,
            client_id=client_id,
            practice_id=therapist.practice_id,
            start=request.start,
            duration_minutes=request.duration_minutes,
            modality=request.modality,
            created_at=now,
            series_id=series_id,
            series_index=series_index,
            policy_version=current_version,
        )
        await uow.appointments.add(appointment, recoverable=recoverable)
        # Care starts here or in matching, and both open the pair's conversation when it does: a returning
        # client's booking has nothing to open (and skips the lookup).
        started = await uow.care.ensure(client_id, therapist.id, therapist.practice_id, now)
        if started and self._on_care is not None:
            await self._on_care(uow, client_id, therapist.id, therapist.practice_id)
        extra = self._booked_jobs(appointment) if self._booked_jobs is not None else ()
        await self._schedule_jobs(uow, appointment, known=(therapist,), fresh=True, extra=extra)
        await uow.audit.append(self._event(principal, "appointment.create", "appointment", appointment.id))
        return appointment

    async def _booking_client(
        self, uow: SchedulingUnitOfWork, principal: Principal, request: BookingRequest
    ) -> uuid.UUID:
        if principal.role is Role.CLIENT:
            if request.client_id not in (None, principal.user_id):
                raise NotFound("No such client.")
            return principal.user_id
        if principal.role is Role.THERAPIST and request.therapist_id == principal.user_id and request.client_id:
            if await uow.care.is_active(request.client_id, principal.user_id):
                return request.client_id
            raise NotFound("No such client.")
        if principal.role is Role.THERAPIST and request.client_id is None:
            raise ValidationFailed("Name the client to book for.", code="client_required", field="client_id")
        raise NotFound("No such therapist.")

    async def _schedule_jobs(
        self,
        uow: SchedulingUnitOfWork,
        appointment: Appointment,
        *,
        known: Sequence[User] = (),
        fresh: bool = False,
        extra: Sequence[JobRequest] = (),
    ) -> None:
        """Replace the appointment's pending reminders and queue its phone call, in one enqueue. A `fresh`
        appointment has no reminders yet; `known` users need not be read again."""
        if not fresh:
            await uow.reminders.cancel_pending(appointment.id)
        now = self._clock.now()
        users = {user.id: user for user in known}
        new: list[NewReminder] = []
        for recipient_id in (appointment.client_id, appointment.therapist_id):
            recipient = users.get(recipient_id) or await uow.users.get(recipient_id)
            if recipient is None:
                continue
            due_times = reminder_due_times(
                appointment.start, booked_at=now, timezone=recipient.timezone, offsets=self._reminder_offsets
            )
            channels = ["email"] + (["sms"] if recipient.phone else [])
            new.extend(
                NewReminder(self._ids.new(), appointment.id, recipient.id, channel, due)
                for due in due_times
                for channel in channels
            )
        await uow.reminders.schedule(new)
        jobs = [JobRequest(SEND_REMINDER_JOB, {"reminder_id": str(r.id)}, r.due_at) for r in new]
        jobs.extend(extra)
        if appointment.modality is Modality.PHONE:
            # The platform places phone sessions itself at the start time (the job skips moved/cancelled ones).
            payload = {"appointment_id": str(appointment.id), "start": appointment.start.isoformat()}
            jobs.append(JobRequest(PHONE_SESSION_CALL_JOB, payload, appointment.start))
        await uow.jobs.enqueue_many(jobs)

    # ------------------------------------------------------------------------------------ reading

    async def get(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        async with self._uow() as uow:
            return visible_or_404(principal, await uow.appointments.get(appointment_id))

    async def list(
        self,
        principal: Principal,
        *,
        start: datetime | None,
        end: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        therapist_id: uuid.UUID | None = None,
        client_id: uuid.UUID | None = None,
        newest_first: bool = False,
    ) -> list[Appointment]:
        """Clients see their own sessions, staff their practice's; `therapist_id` and `client_id` narrow either."""
        if principal.role is Role.CLIENT:
            if client_id not in (None, principal.user_id):
                return []
            scope = AppointmentQuery(client_id=principal.user_id)
        elif principal.practice_id is not None:
            scope = AppointmentQuery(practice_id=principal.practice_id, client_id=client_id)
        else:
            return []
        query = replace(
            scope,
            therapist_id=therapist_id,
            start=start,
            end=end,
            after=after,
            limit=limit,
            newest_first=newest_first,
        )
        async with self._uow() as uow:
            return await uow.appointments.find(query)

    async def clients(
        self, principal: Principal, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[ClientInCare]:
        """The calling therapist's clients in active care, booked or not: matching starts care before any
        session, and those clients must be reachable (chart, booking) too."""
        if principal.role is not Role.THERAPIST:
            raise Forbidden("Only therapists have clients.")
        async with self._uow() as uow:
            return await uow.care.clients_of(principal.user_id, self._clock.now(), after, limit)

    async def client_names(self, principal: Principal, client_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The display names of those of `client_ids` the calling therapist has or had in care (their sessions,
        conversations, notes and alerts name them) or who wait on their waitlist now; anyone else is absent, so an
        id of another practice's client reads exactly like an unknown one. Admins get no names: they have none
        today (ADR 16, 18), and this does not widen what they see."""
        if principal.role is not Role.THERAPIST:
            raise Forbidden("Only therapists have clients.")
        if not client_ids:
            return {}
        async with self._uow() as uow:
            return await uow.care.names_for(principal.user_id, client_ids)

    # ------------------------------------------------------------------------------------ changes

    async def cancel(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        reason: str | None,
        accepted_fee: Money | None = None,
    ) -> Appointment:
        """`accepted_fee`: the late-cancellation fee the client was shown and accepts. A late cancellation that
        costs a fee needs exactly that fee accepted, else `LateFeeNotAccepted` and nothing changes."""
        async with self._uow() as uow:
            appointment = await self._managed(uow, principal, appointment_id)
            now = self._clock.now()
            terms = await self.terms_in(uow, principal, appointment, now)
            require_fee_accepted(fee_due(terms), accepted_fee, terms)
            await self.abandon_in(uow, principal, appointment, reason, now=now)
            await uow.commit()
        return appointment

    async def cancellation_terms(self, principal: Principal, appointment_id: uuid.UUID) -> CancellationTerms:
        """The terms `principal` cancelling the appointment now would follow, for anyone who may see it, so a
        client is told the fee before they cancel. Computed by `_terms_at`, as the cancel computes them: the fee
        quoted is exactly the fee a cancel then accepts (one computation, so the two cannot drift apart)."""
        async with self._uow() as uow:
            appointment = visible_or_404(principal, await uow.appointments.get(appointment_id))
            return await self._terms_at(uow, principal, appointment, self._clock.now())

    async def terms_in(
        self, uow: SchedulingUnitOfWork, principal: Principal, appointment: Appointment, now: datetime
    ) -> CancellationTerms:
        """The terms `principal` cancelling `appointment` at `now` follows. A status that cannot be cancelled is
        `InvalidState` first: there is no fee to accept for a cancel that cannot happen."""
        ensure_transition(appointment.status, AppointmentStatus.CANCELLED)
        return await self._terms_at(uow, principal, appointment, now)

    async def _terms_at(
        self, uow: SchedulingUnitOfWork, principal: Principal, appointment: Appointment, now: datetime
    ) -> CancellationTerms:
        """The window of the accepted policy (else the profile's), whether `principal` cancelling at `now` is late,
        and the fee a late cancellation charges (billing's, through the `late_fee` hook that `on_missed` matches)."""
        window = await self._window(uow, appointment)
        by = _cancelled_by(principal)
        late = is_late_cancellation(start=appointment.start, now=now, window_hours=window, by=by)
        fee = await self._late_fee(uow, appointment) if self._late_fee is not None else None
        return CancellationTerms(
            appointment_id=appointment.id,
            policy_version=appointment.policy_version,
            window_hours=window,
            late_from=appointment.start - timedelta(hours=window),
            late_now=late,
            late_cancellation_fee=fee,
        )

    async def abandon_in(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        appointment: Appointment,
        reason: str | None,
        *,
        now: datetime,
    ) -> None:
        """Inside the caller's transaction: `appointment` cancelled by `principal` at `now` (the moment its fee,
        if any, was accepted for) and saved. Inside the policy's window a client's cancellation is late (and
        billed), pending reminders go, it is audited, its time is offered to the waitlist."""
        freed = self.cancel_in(uow, principal, appointment, reason, await self._window(uow, appointment), now=now)
        await uow.appointments.save(appointment)
        await uow.reminders.cancel_pending(appointment.id)
        await uow.audit.append(self._event(principal, "appointment.cancel", "appointment", appointment.id))
        await self.missed_in(uow, appointment)
        await self.release_in(uow, freed)

    def cancel_in(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        appointment: Appointment,
        reason: str | None,
        window: int,
        *,
        now: datetime | None = None,
        by: CancelledBy | None = None,
    ) -> Freed:
        """`appointment` cancelled in place by `principal` (or `by`, when the cancellation is not the principal's
        side's: a switch of therapist is the practice's); the caller saves it and releases what it returns."""
        apply_cancel(
            appointment,
            by=by or _cancelled_by(principal),
            reason=reason,
            now=now or self._clock.now(),
            window_hours=window,
        )
        return Freed(
            appointment.therapist_id, appointment.start, appointment.end, appointment.modality, appointment.client_id
        )

    async def reschedule(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        new_start: datetime,
        duration_minutes: int | None = None,
    ) -> Appointment:
        """Atomic: one UPDATE moves the interval, so the old time is released only if the new one is taken."""
        async with self._uow() as uow:
            appointment = await self._managed(uow, principal, appointment_id)
            old = Freed(
                appointment.therapist_id,
                appointment.start,
                appointment.end,
                appointment.modality,
                appointment.client_id,
            )
            await self.move_in(uow, principal, appointment, new_start, duration_minutes)
            await self.release_in(uow, old)
            await uow.commit()
        return appointment

    @staticmethod
    async def _hours_under_lock(uow: SchedulingUnitOfWork, therapist_id: uuid.UUID) -> OfficeHours:
        """Read after taking the therapist's lock, which a change of office hours also takes: a booking that
        waited for it checks the hours as they are now, not as they were before it waited (READ COMMITTED)."""
        hours = await uow.office_hours.get(therapist_id)
        if hours is None:
            raise ValidationFailed("This therapist has not published office hours.", code="outside_office_hours")
        return hours

    async def move_in(
        self,
        uow: SchedulingUnitOfWork,
        principal: Principal,
        appointment: Appointment,
        new_start: datetime,
        duration_minutes: int | None,
    ) -> None:
        minutes = duration_minutes or appointment.duration_minutes
        profile = await self._profile(uow, appointment.therapist_id)
        check_offered(profile, minutes, appointment.modality)
        await uow.appointments.lock_therapist(appointment.therapist_id)
        hours = await self._hours_under_lock(uow, appointment.therapist_id)
        busy = await uow.appointments.blocking_for_therapist(
            appointment.therapist_id, new_start - _DAY_MARGIN, new_start + _DAY_MARGIN, exclude=appointment.id
        )
        check_bookable(hours, [(a.start, a.end) for a in busy], new_start, minutes, self._clock.now())
        appointment.reschedule(new_start, minutes)
        await uow.appointments.save(appointment)
        await self._schedule_jobs(uow, appointment)
        await uow.audit.append(self._event(principal, "appointment.reschedule", "appointment", appointment.id))

    async def transition(
        self, principal: Principal, appointment_id: uuid.UUID, target: AppointmentStatus
    ) -> Appointment:
        """Staff-driven state changes (the live-session flow drives the rest of the machine). A completion is the
        live session's: it settles the session as its end does (attendance, the charge, the audit)."""
        if target is AppointmentStatus.COMPLETED:
            return await self._complete(principal, appointment_id)
        async with self._uow() as uow:
            appointment = staff_managed(principal, await uow.appointments.get(appointment_id, for_update=True))
            if target is AppointmentStatus.NO_SHOW and self._clock.now() < appointment.start:
                raise InvalidState("The session has not started yet.", code="session_not_started")
            if (
                target is AppointmentStatus.NO_SHOW
                and self._client_came is not None
                and await self._client_came(uow, appointment)
            ):
                raise InvalidState("The client joined this session: it is not a no-show.", code="client_attended")
            if target in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS):
                await self._check_started(uow, appointment, target)
            appointment.transition(target)
            await uow.appointments.save(appointment)
            if target is AppointmentStatus.NO_SHOW:
                await uow.reminders.cancel_pending(appointment.id)
            await uow.audit.append(self._event(principal, f"appointment.{target.value}", "appointment", appointment.id))
            await self.missed_in(uow, appointment)
            await uow.commit()
        return appointment

    async def _check_started(
        self, uow: SchedulingUnitOfWork, appointment: Appointment, target: AppointmentStatus
    ) -> None:
        """A staff check-in or start by hand stands in for what the live session records itself (the client's
        check-in, both joining), so it must not tell another story: not before the session opens, and no start
        that nobody attended. A start without attendance would also escape the no-show check (it only looks at
        booked and checked-in sessions) and leave a session that can neither end nor be a no-show."""
        ensure_transition(appointment.status, target)  # an illegal move is `invalid_state` whatever the time
        opens = self._join_opens(appointment)
        if self._clock.now() < opens:
            early = int((appointment.start - opens).total_seconds() // 60)
            raise ValidationFailed(
                f"The session opens {early} minutes before its start: check-in and start can be recorded from then.",
                code="outside_join_window",
            )
        if target is AppointmentStatus.IN_PROGRESS and not await self._took_place(uow, appointment):
            raise InvalidState(
                "The session starts when both of you have joined the call, or the phone call has connected; "
                "a client who never comes is a no-show.",
                code="session_not_held",
            )

    async def _managed(self, uow: SchedulingUnitOfWork, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        return managed_or_refused(principal, await uow.appointments.get(appointment_id, for_update=True))

    async def missed_in(self, uow: SchedulingUnitOfWork, appointment: Appointment) -> None:
        """Tell billing about a late cancellation or a no-show, inside the caller's transaction."""
        missed = appointment.status in (AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW)
        if missed and self._on_missed is not None:
            await self._on_missed(uow, appointment)

    async def _window(self, uow: SchedulingUnitOfWork, appointment: Appointment) -> int:
        """The window of the policy the client accepted; without one, the profile's current window."""
        if appointment.policy_version is not None:
            hours = await uow.accepted_policies.window_hours(appointment.therapist_id, appointment.policy_version)
            if hours is not None:
                return hours
        return (await self._profile(uow, appointment.therapist_id)).cancellation_window_hours

    async def release_in(self, uow: SchedulingUnitOfWork, freed: Freed) -> None:
        """Inside the transaction that freed the time (here or in another area: a switch of therapist cancels
        sessions): offer it to the waitlist. A failure fails that transaction, so a cancellation is never committed
        without its offers, and the caller's retry finds the appointment as it was."""
        if self._on_freed is not None:
            await self._on_freed(uow, freed)

    def _event(self, principal: Principal, action: str, object_type: str, object_id: uuid.UUID) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())


def fee_due(terms: CancellationTerms) -> Money | None:
    """What cancelling under `terms` charges now: the fee when the cancellation is late, else nothing."""
    return terms.late_cancellation_fee if terms.late_now else None


def _cancelled_by(principal: Principal) -> CancelledBy:
    return CancelledBy.CLIENT if principal.role is Role.CLIENT else CancelledBy.THERAPIST


def _require(principal: Principal, role: Role) -> None:
    if principal.role is not role:
        raise Forbidden("This is for therapists.", code="forbidden")
