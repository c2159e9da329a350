"""Phone sessions: users' numbers, bridging a session's two participants, and folding in the provider's events.

The platform calls the therapist first, then the client, and joins them; both see the practice's number (the
adapter's caller id), never each other's. Numbers never leave this service except towards the provider: not in
logs, job payloads, audit events, URLs or API answers about calls.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from domain.audit.events import AuditEvent, Outcome, event_by
from domain.scheduling.model import TERMINAL_STATUSES, Appointment, Modality
from domain.shared.errors import DomainError, InvalidState, NotFound, ValidationFailed
from domain.shared.phone import normalise_phone
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role
from domain.telephony.errors import (
    CallAlreadyLive,
    CallBeingPlaced,
    CallPlacementUnconfirmed,
    TelephonyUnavailable,
)
from domain.telephony.model import (
    CALL_CLOSES_AFTER_END,
    CALL_OPENS_BEFORE_START,
    CallTrigger,
    PhoneCall,
)
from domain.telephony.ports import (
    CallEvent,
    CallLeg,
    CallStatus,
    CallStatusListener,
    PlacedCall,
    Telephony,
    TelephonyUnitOfWork,
    WebhookReply,
)

log = logging.getLogger("hearth.telephony")


class ScheduledCallFailed(Exception):
    """A phone session's call cannot be placed and retrying will not help (the job fails at once)."""

    permanent = True


class ScheduledCallPending(Exception):
    """A phone session's call may or may not be ringing yet; the job runs again later to find out."""

    permanent = False


class _SessionAlreadyCalled(Exception):
    """The start-time job finds the session already called (see `TelephonyService.place_scheduled`)."""


class TelephonyService:
    def __init__(
        self,
        uow: Callable[[], TelephonyUnitOfWork],
        telephony: Telephony,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._uow = uow
        self._telephony = telephony
        self._clock = clock
        self._ids = ids
        self._listeners: list[CallStatusListener] = []

    def add_listener(self, listener: CallStatusListener) -> None:
        self._listeners.append(listener)

    # ------------------------------------------------------------------------------------ numbers

    async def phone_of(self, principal: Principal) -> str | None:
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("No such user.")
            return user.phone

    async def set_phone(self, principal: Principal, phone: str | None) -> str | None:
        number = normalise_phone(phone) if phone is not None and phone.strip() else None
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("No such user.")
            user.phone = number
            await uow.users.update_contact(user)
            await uow.audit.append(event_by(principal, "user.phone.update", "user", user.id, self._clock.now()))
            await uow.commit()
        return number

    # ------------------------------------------------------------------------------------ calls

    async def start_call(self, principal: Principal, appointment_id: uuid.UUID) -> PhoneCall:
        """The therapist's "call client" button (also the step-down to phone from a video or audio session)."""
        async with self._uow() as uow:
            appointment = self._own(principal, await uow.appointments.get(appointment_id), therapist_only=True)
        return await self.call_for_session(
            appointment.id, appointment.therapist_id, appointment.client_id, principal=principal
        )

    async def call_for_session(
        self,
        appointment_id: uuid.UUID,
        therapist_id: uuid.UUID,
        client_id: uuid.UUID,
        *,
        trigger: CallTrigger = CallTrigger.THERAPIST,
        principal: Principal | None = None,
    ) -> PhoneCall:
        """Places the bridge for one session: therapist first, then client. The call row is committed before
        the provider is asked, so the provider's first webhook always finds it; a row whose placing was cut off
        after that commit counts as failed once it is `abandoned`."""
        now = self._clock.now()
        async with self._uow() as uow:
            # The row lock serialises two presses of the button (the unique index is the backstop).
            appointment, first, second = await self._callable(
                uow, appointment_id, therapist_id, client_id, now, for_update=True
            )
            if trigger is CallTrigger.SCHEDULED and await self._called_in_window(uow, appointment):
                raise _SessionAlreadyCalled
            latest = await uow.phone_calls.latest_for_appointment(appointment.id)
            abandoned = latest is not None and latest.abandoned(now)
            if latest is not None and abandoned:
                latest.fail(now)  # its placing was cut off; left live, it would block this call for good
                await uow.phone_calls.save(latest)
            else:
                _check_no_live_call(latest)
            call = PhoneCall(
                id=self._ids.new(),
                appointment_id=appointment.id,
                practice_id=appointment.practice_id,
                therapist_id=therapist_id,
                client_id=client_id,
                trigger=trigger,
                status=CallStatus.QUEUED,
                created_at=now,
            )
            await uow.phone_calls.add(call)
            await uow.audit.append(self._audit(principal, "phone_call.place", call, now))
            await uow.commit()
        if abandoned:
            await self._notify(call.appointment_id, CallStatus.FAILED, now)
        await self._notify(call.appointment_id, CallStatus.QUEUED, now)
        placed: PlacedCall | None = None
        try:
            placed = await self._telephony.bridge(reference=str(call.id), first=first, second=second)
        except TelephonyUnavailable:
            await self._fail(call.id)
            raise
        except CallPlacementUnconfirmed:
            # Left live: the call's first webhook binds it, or it counts as failed once abandoned. Failing it now
            # would let a retry ring the therapist twice, the first call then declined as ended.
            log.warning("phone call %s left unconfirmed: the provider may have it", call.id)
        async with self._uow() as uow:
            stored = await uow.phone_calls.get(call.id, for_update=True)
            assert stored is not None
            if placed is not None and stored.provider_call_id is None:  # a fast webhook may have told us already
                stored.provider_call_id = placed.provider_call_id
                await uow.phone_calls.save(stored)
                await uow.commit()
            return stored

    async def check_call_for_session(
        self, appointment_id: uuid.UUID, therapist_id: uuid.UUID, client_id: uuid.UUID
    ) -> None:
        """Raises the refusal `call_for_session` would give now, and places nothing: the step-down to phone asks
        first, so that a refused step-down changes nothing (it never backs up)."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, _, _ = await self._callable(uow, appointment_id, therapist_id, client_id, now)
            latest = await uow.phone_calls.latest_for_appointment(appointment.id)
            if latest is not None and not latest.abandoned(now):
                _check_no_live_call(latest)

    async def _callable(
        self,
        uow: TelephonyUnitOfWork,
        appointment_id: uuid.UUID,
        therapist_id: uuid.UUID,
        client_id: uuid.UUID,
        now: datetime,
        *,
        for_update: bool = False,
    ) -> tuple[Appointment, str, str]:
        """The session, the therapist's and the client's numbers, once it is a session that can be called now."""
        appointment = await uow.appointments.get(appointment_id, for_update=for_update)
        if appointment is None or (appointment.therapist_id, appointment.client_id) != (therapist_id, client_id):
            raise NotFound("No such appointment.")
        self._check_callable(appointment, now)
        therapist, client = await uow.users.get(therapist_id), await uow.users.get(client_id)
        if therapist is None or not therapist.phone:
            raise ValidationFailed(
                "Add your phone number in your settings first: the platform calls you, then your client.",
                code="therapist_phone_missing",
                field="phone",
            )
        if client is None or not client.phone:
            raise ValidationFailed(
                "Your client has no phone number on file; ask them to add one in their settings.",
                code="client_phone_missing",
                field="phone",
            )
        return appointment, therapist.phone, client.phone

    async def current_call(self, principal: Principal, appointment_id: uuid.UUID) -> PhoneCall:
        async with self._uow() as uow:
            appointment = self._own(principal, await uow.appointments.get(appointment_id), therapist_only=False)
            call = await uow.phone_calls.latest_for_appointment(appointment.id)
        if call is None:
            raise NotFound("No phone call has been placed for this session.", code="no_phone_call")
        return call

    async def hang_up(self, principal: Principal, appointment_id: uuid.UUID) -> PhoneCall:
        """Asks the provider to end the live call; its status callback then records the end. A call the provider
        never had is ended here: no callback will come for it."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = self._own(principal, await uow.appointments.get(appointment_id), therapist_only=False)
            call = await uow.phone_calls.latest_for_appointment(appointment.id, for_update=True)
            abandoned = call is not None and call.abandoned(now)
            if call is None or not call.live or (call.provider_call_id is None and not abandoned):
                raise InvalidState("There is no call under way for this session.", code="no_live_call")
            if abandoned:
                call.fail(now)
                await uow.phone_calls.save(call)
            await uow.audit.append(self._audit(principal, "phone_call.hang_up", call, now))
            await uow.commit()
        if call.provider_call_id is not None:
            await self._telephony.hang_up(call.provider_call_id)
        else:
            await self._notify(call.appointment_id, CallStatus.FAILED, now)
        return call

    async def place_scheduled(self, appointment_id: uuid.UUID, start: datetime) -> PhoneCall | None:
        """The job at a phone session's start time. A moved, cancelled or no-longer-phone session is skipped;
        so is one already called since its call window opened (by the therapist, or an earlier run of this job),
        even if that call has ended: the therapist has the button to call again."""
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id)
        if (
            appointment is None
            or appointment.start != start
            or appointment.modality is not Modality.PHONE
            or appointment.status in TERMINAL_STATUSES
        ):
            return None
        try:
            call = await self.call_for_session(
                appointment.id, appointment.therapist_id, appointment.client_id, trigger=CallTrigger.SCHEDULED
            )
        except _SessionAlreadyCalled:
            return None
        except CallBeingPlaced as exc:
            # Placed by another run a moment ago, or cut off half-way: a later run sees which (see
            # UNPLACED_CALL_EXPIRES_AFTER); skipping now could leave the session without any call.
            raise ScheduledCallPending(f"phone session {appointment_id}: call not confirmed yet") from exc
        except CallAlreadyLive:
            return None
        except TelephonyUnavailable:
            raise  # transient: the worker retries
        except DomainError as exc:
            raise ScheduledCallFailed(f"phone session {appointment_id}: {exc.code}") from exc
        if call.unconfirmed:
            # The next run sees it bound by its webhook (done), or abandoned (then placed again).
            raise ScheduledCallPending(f"phone session {appointment_id}: call not confirmed yet")
        return call

    # ------------------------------------------------------------------------------------ provider events

    async def handle_status_webhook(
        self, call_id: uuid.UUID, url: str, params: dict[str, str], signature: str | None
    ) -> PhoneCall:
        self._telephony.verify_webhook(url, params, signature)
        return await self.apply_event(call_id, self._telephony.read_status(params))

    async def handle_connect_webhook(
        self, call_id: uuid.UUID, url: str, params: dict[str, str], signature: str | None
    ) -> WebhookReply:
        """The therapist answered: tell the provider to dial the client (unless the call ended meanwhile)."""
        self._telephony.verify_webhook(url, params, signature)
        async with self._uow() as uow:
            call = await uow.phone_calls.get(call_id)
            if call is None:
                raise NotFound("No such call.")
            client = await uow.users.get(call.client_id)
        if not call.live or client is None or not client.phone:
            return self._telephony.decline()
        return self._telephony.connect_second(reference=str(call.id), second=client.phone)

    async def apply_event(self, call_id: uuid.UUID, event: CallEvent) -> PhoneCall:
        """Idempotent: a repeated or late event changes nothing."""
        async with self._uow() as uow:
            call = await uow.phone_calls.get(call_id, for_update=True)
            if call is None:
                raise NotFound("No such call.")
            if event.leg is CallLeg.FIRST and call.provider_call_id not in (None, event.provider_call_id):
                raise NotFound("No such call.")
            seen = len(call.timeline)
            changed = call.apply(event)
            if len(call.timeline) == seen:
                return call
            await uow.phone_calls.save(call)
            await uow.commit()
        if changed:
            await self._notify(call.appointment_id, call.status, event.at)
        return call

    # ------------------------------------------------------------------------------------ helpers

    async def _fail(self, call_id: uuid.UUID) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            call = await uow.phone_calls.get(call_id, for_update=True)
            if call is None or not call.live:
                return
            call.fail(now)
            await uow.phone_calls.save(call)
            await uow.commit()
        await self._notify(call.appointment_id, CallStatus.FAILED, now)

    @staticmethod
    async def _called_in_window(uow: TelephonyUnitOfWork, appointment: Appointment) -> bool:
        # A call from before the window belongs to the session's former time (it was moved), not to this one.
        opened = appointment.start - CALL_OPENS_BEFORE_START
        calls = await uow.phone_calls.for_appointment(appointment.id)
        return any(call.created_at >= opened and call.reached_provider for call in calls)

    async def _notify(self, appointment_id: uuid.UUID, status: CallStatus, at: datetime) -> None:
        for listener in self._listeners:
            try:
                await listener(appointment_id, status, at)
            except Exception:  # a listener's failure must not undo or fail a committed call change
                log.exception("telephony.listener_failed")

    @staticmethod
    def _own(principal: Principal, appointment: Appointment | None, *, therapist_only: bool) -> Appointment:
        if appointment is not None:
            if principal.role is Role.THERAPIST and appointment.therapist_id == principal.user_id:
                return appointment
            if not therapist_only and principal.role is Role.CLIENT and appointment.client_id == principal.user_id:
                return appointment
        raise NotFound("No such appointment.")

    @staticmethod
    def _check_callable(appointment: Appointment, now: datetime) -> None:
        if appointment.status in TERMINAL_STATUSES:
            raise InvalidState(
                f"This session is {appointment.status.value}; there is nobody to call.", code="appointment_not_active"
            )
        if not appointment.start - CALL_OPENS_BEFORE_START <= now <= appointment.end + CALL_CLOSES_AFTER_END:
            raise InvalidState(
                "A session's call can be placed from 15 minutes before it starts until 15 minutes after it ends.",
                code="outside_call_window",
            )

    @staticmethod
    def _audit(principal: Principal | None, action: str, call: PhoneCall, at: datetime) -> AuditEvent:
        if principal is not None:
            return event_by(principal, action, "phone_call", call.id, at)
        return AuditEvent(
            action=action,
            object_type="phone_call",
            object_id=str(call.id),
            actor_id=None,
            actor_role="system",
            practice_id=call.practice_id,
            outcome=Outcome.SUCCESS,
            occurred_at=at,
        )


def _check_no_live_call(latest: PhoneCall | None) -> None:
    """A session has one call at a time (an abandoned one is failed by the caller before this)."""
    if latest is not None and latest.unconfirmed:
        raise CallBeingPlaced("A call for this session is being placed; try again in a minute if it does not ring.")
    if latest is not None and latest.live:
        raise CallAlreadyLive("A call for this session is already under way; hang it up first.")
