"""Live-session use cases: the session's state, the safety check-in, the waiting room, signaling between the
participants, the media path, step-down and attendance (no-show, completion).

Only the appointment's therapist and client see or touch its session: anyone else gets `NotFound`. Signaling
frames (SDP, ICE candidates) are stored sealed for their recipient and rung through the notifier with ids only;
they are never logged.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.audit.events import AuditEvent, Outcome, event_by
from domain.media.relay import MediaRelay, RelayAnswer
from domain.scheduling.access import staff_managed
from domain.scheduling.model import Appointment, AppointmentStatus, Modality
from domain.sessions.attendance import (
    came_to_chat,
    client_came,
    connected_minutes,
    ever_joined,
    latest_join,
    present,
    took_place,
)
from domain.sessions.ice import IceConfig, IceServer, ice_servers
from domain.sessions.model import (
    CheckIn,
    EmergencyContact,
    EventKind,
    JoinWindow,
    LiveSession,
    MediaPath,
    SessionEvent,
    WindowRules,
    licensed_for,
    validate_check_in,
)
from domain.sessions.ports import PhoneCalls, SessionNotifier, SessionOutcomes, SessionsUnitOfWork, StoredSignal
from domain.shared.cipher import AadContext, PayloadCipher
from domain.shared.data_keys import data_key, new_data_key
from domain.shared.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from domain.shared.jobs import JobRequest
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal

log = logging.getLogger("hearth.sessions")

NO_SHOW_JOB = "sessions.no_show"
SIGNAL_KINDS = frozenset({"offer", "answer", "candidate", "renegotiate"})
MAX_SIGNALS_PAGE = 200
_LIVE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS})


class OutsideWindow(ValidationFailed):
    code = "outside_join_window"


@dataclass(frozen=True, slots=True)
class SessionView:
    appointment: Appointment
    session: LiveSession
    window: JoinWindow
    events: list[SessionEvent]
    connected: frozenset[uuid.UUID]
    admitted: bool
    check_in: CheckIn | None
    licence_warning: str | None  # for the therapist only
    require_relayed: bool
    relay_available: bool
    viewer_id: uuid.UUID
    # For the client before checking in: the emergency contact they gave last time, to confirm or update.
    known_emergency_contact: EmergencyContact | None = None

    @property
    def viewer_role(self) -> str:
        return "therapist" if self.viewer_id == self.appointment.therapist_id else "client"

    @property
    def polite(self) -> bool:
        """MDN perfect negotiation: the client is polite (yields on an offer collision), the therapist is not."""
        return self.viewer_role == "client"

    @property
    def waiting(self) -> bool:
        return self.check_in is not None and not self.admitted and self.session.ended_at is None


@dataclass(frozen=True, slots=True)
class Signal:
    appointment_id: uuid.UUID
    seq: int
    sender_id: uuid.UUID
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Joined:
    view: SessionView
    signal_cursor: int  # signals up to here are stale; live ones follow
    join_id: uuid.UUID  # this join's event: a socket that closes leaves only if it is still the user's latest join


class SessionService:
    def __init__(
        self,
        uow: Callable[[], SessionsUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        *,
        rules: WindowRules | None = None,
        ice: IceConfig | None = None,
        relay: MediaRelay | None = None,
        phone_calls: PhoneCalls | None = None,
        outcomes: SessionOutcomes | None = None,
        notifier: SessionNotifier | None = None,
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._rules = rules or WindowRules()
        self._ice = ice or IceConfig()
        self.relay = relay
        self.phone_calls = phone_calls
        self.outcomes = outcomes
        self.notifier = notifier

    @property
    def rules(self) -> WindowRules:
        return self._rules

    # ------------------------------------------------------------------------------ reading

    async def view(self, principal: Principal, appointment_id: uuid.UUID) -> SessionView:
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id)
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()  # a first visit creates the session
        return view

    async def ice_servers(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[list[IceServer], datetime | None]:
        async with self._uow() as uow:
            await self._appointment(uow, principal, appointment_id)
        return ice_servers(self._ice, str(principal.user_id), self._clock.now())

    # ------------------------------------------------------------------------------ check-in, waiting room

    async def check_in(self, principal: Principal, appointment_id: uuid.UUID, check_in: CheckIn) -> SessionView:
        now = self._clock.now()
        validate_check_in(check_in)
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            if principal.user_id != appointment.client_id:
                raise Forbidden("Only the client checks in.", code="client_only")
            self._check_open(appointment, session, now)
            if await self._check_in(uow, session) == check_in:
                # The same answers again (a retry, a second tab, a double click): nothing to record or announce.
                # CheckIn equality leaves out submitted_at; a different answer (moved, or now alone) still updates.
                return await self._view(uow, principal, appointment, session)
            check_in = replace(check_in, submitted_at=now)
            key = await data_key(uow, session.data_key_id)
            session.check_in = self._cipher.seal(_encode_check_in(check_in), key, _check_in_aad(appointment.id))
            session.checked_in_at = now
            await self._event(uow, appointment.id, EventKind.CHECKED_IN, principal.user_id, now)
            if not check_in.private and session.modality is not Modality.CHAT:
                session.modality = Modality.CHAT
                # Without the reason: "not alone" is the client's answer, sealed in the check-in, which says why.
                await self._event(
                    uow, appointment.id, EventKind.MODALITY_CHANGED, principal.user_id, now, Modality.CHAT
                )
            if appointment.status is AppointmentStatus.BOOKED:
                appointment.transition(AppointmentStatus.CHECKED_IN)
                await uow.appointments.save(appointment)
            await uow.live_sessions.save(session)
            await uow.audit.append(event_by(principal, "session.check_in", "appointment", appointment.id, now))
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()
        await self._changed(appointment)
        return view

    async def admit(self, principal: Principal, appointment_id: uuid.UUID) -> SessionView:
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            _therapist_only(principal, appointment)
            self._check_open(appointment, session, now)
            if session.checked_in_at is None:
                raise InvalidState("The client has not checked in yet.", code="not_checked_in")
            if session.admitted_at is None:
                await self._admit(uow, session, principal.user_id, now)
                await uow.live_sessions.save(session)
                await uow.audit.append(event_by(principal, "session.admit", "appointment", appointment.id, now))
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()
        await self._changed(appointment)
        return view

    async def set_auto_admit(self, principal: Principal, appointment_id: uuid.UUID, enabled: bool) -> SessionView:
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            _therapist_only(principal, appointment)
            session.auto_admit = enabled
            await uow.live_sessions.save(session)
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()
        await self._changed(appointment)
        return view

    # ------------------------------------------------------------------------------ the call

    async def join(self, principal: Principal, appointment_id: uuid.UUID) -> Joined:
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            self._check_open(appointment, session, now)
            if principal.user_id == appointment.client_id:
                if session.checked_in_at is None:
                    raise InvalidState("Check in before joining.", code="check_in_required")
                if session.admitted_at is None and session.auto_admit and now >= appointment.start:
                    await self._admit(uow, session, None, now)
                if session.admitted_at is None:
                    raise InvalidState("Your therapist will let you in shortly.", code="waiting_for_admission")
            if (
                session.media_path is MediaPath.P2P
                and self.relay is not None
                and await uow.live_sessions.require_relayed(appointment.practice_id)
            ):
                # The practice began to require the relay after this session was opened.
                session.media_path = MediaPath.RELAYED
                await self._event(
                    uow, appointment.id, EventKind.PATH_CHANGED, None, now, session.modality, MediaPath.RELAYED.value
                )
            join_id = await self._event(uow, appointment.id, EventKind.JOINED, principal.user_id, now, session.modality)
            events = await uow.live_sessions.events(appointment.id)
            both = {appointment.therapist_id, appointment.client_id} <= present(events)
            if both and appointment.status is AppointmentStatus.CHECKED_IN:
                appointment.transition(AppointmentStatus.IN_PROGRESS)
                await uow.appointments.save(appointment)
            await uow.live_sessions.save(session)
            view = await self._view(uow, principal, appointment, session, events)
            await uow.commit()
        await self._changed(appointment)
        return Joined(view, session.last_signal_seq, join_id)

    async def leave(self, principal: Principal, appointment_id: uuid.UUID, *, join_id: uuid.UUID | None = None) -> None:
        """The user leaves the session. With `join_id` (a socket that closed, see Joined), only when that join is
        still the user's latest: after a rejoin from a new socket (a reload, a dropped network, another device),
        the old socket's close, noticed only at its ping timeout, must not take the user out of the call."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            events = await uow.live_sessions.events(appointment.id)
            if principal.user_id not in present(events):
                return
            if join_id is not None and join_id != latest_join(events, principal.user_id):
                return
            await self._event(uow, appointment.id, EventKind.LEFT, principal.user_id, now, session.modality)
            await uow.commit()
        if self.relay is not None:
            await self._quietly(self.relay.leave(str(appointment.id), str(principal.user_id)))
            await self._renegotiate(appointment, principal.user_id, "peer_left")
        await self._changed(appointment)

    async def signal(self, principal: Principal, appointment_id: uuid.UUID, kind: str, payload: dict[str, Any]) -> int:
        """Store a signaling frame for the other participant(s); returns its seq."""
        if kind not in SIGNAL_KINDS:
            raise ValidationFailed("Unknown signal.", code="invalid_signal")
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            if session.ended_at is not None:
                raise InvalidState("The session has ended.", code="session_ended")
            if principal.user_id not in present(await uow.live_sessions.events(appointment.id)):
                raise InvalidState("Join the session first.", code="not_joined")
            recipients = [u for u in (appointment.therapist_id, appointment.client_id) if u != principal.user_id]
            seq = await self._store_signal(uow, appointment, session, principal.user_id, recipients, kind, payload)
            await uow.commit()
        for recipient in recipients:
            await self._ring_signal(appointment.id, recipient, seq)
        return seq

    async def signals(self, principal: Principal, appointment_id: uuid.UUID, after_seq: int) -> list[Signal]:
        async with self._uow() as uow:
            appointment = await self._appointment(uow, principal, appointment_id)
            session = await uow.live_sessions.get(appointment.id)
            if session is None:
                return []
            stored = await uow.live_sessions.signals_after(
                appointment.id, principal.user_id, after_seq, MAX_SIGNALS_PAGE
            )
            if not stored:
                return []
            key = await data_key(uow, session.data_key_id)
        return [
            Signal(
                s.appointment_id,
                s.seq,
                s.sender_id,
                s.kind,
                json.loads(self._cipher.open(s.body, key, _signal_aad(s.appointment_id, s.seq, s.recipient_id))),
            )
            for s in stored
        ]

    async def change_modality(self, principal: Principal, appointment_id: uuid.UUID, target: Modality) -> SessionView:
        """Step down within the session: same session, same timer; each switch is an event."""
        now = self._clock.now()
        if target is Modality.PHONE and self.phone_calls is None:
            raise InvalidState("Phone call-back is not configured on this server.", code="telephony_unavailable")
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            self._check_open(appointment, session, now)
            session.step_down(target)
            if target is Modality.PHONE and self.phone_calls is not None:
                # Asked before anything is written: a step-down never backs up, so a refused one must not happen.
                await self.phone_calls.check_call_for_session(
                    appointment.id, appointment.therapist_id, appointment.client_id
                )
            await self._event(uow, appointment.id, EventKind.MODALITY_CHANGED, principal.user_id, now, target)
            await uow.live_sessions.save(session)
            await uow.audit.append(
                event_by(principal, f"session.step_down.{target.value}", "appointment", appointment.id, now)
            )
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()
        try:
            if target is Modality.PHONE and self.phone_calls is not None:
                # A provider that fails now leaves a phone session without its call: the therapist's "call client"
                # places it again (`call_phone`).
                await self.phone_calls.call_for_session(appointment.id, appointment.therapist_id, appointment.client_id)
        finally:
            await self._changed(appointment)  # committed: both participants hear of it, whatever the call did
        return view

    async def call_phone(self, principal: Principal, appointment_id: uuid.UUID) -> None:
        """The therapist's "call client" for a phone session: the telephony service bridges the two."""
        if self.phone_calls is None:
            raise InvalidState("Phone calls are not configured on this server.", code="telephony_unavailable")
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id)
            _therapist_only(principal, appointment)
            self._check_open(appointment, session, now)
            if session.modality is not Modality.PHONE:
                raise InvalidState("This session is not a phone session.", code="not_phone_session")
            await uow.audit.append(event_by(principal, "session.phone_call", "appointment", appointment.id, now))
            await uow.commit()
        await self.phone_calls.call_for_session(appointment.id, appointment.therapist_id, appointment.client_id)

    async def set_media_path(self, principal: Principal, appointment_id: uuid.UUID, path: MediaPath) -> SessionView:
        """`relayed` is the fallback when direct ICE does not connect; `p2p` is refused when the practice
        requires the relay."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            self._check_open(appointment, session, now)
            if path is MediaPath.P2P and await uow.live_sessions.require_relayed(appointment.practice_id):
                raise ValidationFailed("This practice requires relayed media.", code="relayed_required")
            if path is MediaPath.RELAYED and self.relay is None:
                raise InvalidState("No media relay runs on this server.", code="relay_unavailable")
            if session.media_path is not path:
                session.media_path = path
                await self._event(
                    uow, appointment.id, EventKind.PATH_CHANGED, principal.user_id, now, session.modality, path.value
                )
                await uow.live_sessions.save(session)
            view = await self._view(uow, principal, appointment, session)
            await uow.commit()
        await self._changed(appointment)
        return view

    async def relay_offer(self, principal: Principal, appointment_id: uuid.UUID, offer_sdp: str) -> RelayAnswer:
        if self.relay is None:
            raise InvalidState("No media relay runs on this server.", code="relay_unavailable")
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id)
            if session.media_path is not MediaPath.RELAYED:
                raise InvalidState("This session's media goes peer to peer.", code="not_relayed")
            if principal.user_id not in present(await uow.live_sessions.events(appointment.id)):
                raise InvalidState("Join the session first.", code="not_joined")
        room, me = str(appointment.id), str(principal.user_id)
        before = await self.relay.participants(room)
        answer = await self.relay.negotiate(room, me, offer_sdp)
        if me not in before:
            # The roster changed: the others offer again to receive the newcomer's media.
            await self._renegotiate(appointment, principal.user_id, "peer_joined")
        return answer

    async def end(self, principal: Principal, appointment_id: uuid.UUID) -> SessionView:
        """The therapist ends the session: completed, with the connected minutes per modality."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment, session = await self._open(uow, principal, appointment_id, for_update=True)
            _therapist_only(principal, appointment)
            if session.ended_at is not None:
                raise InvalidState("The session has already ended.", code="session_ended")
            events = await self._settle(uow, principal, appointment, session, now)
            view = await self._view(uow, principal, appointment, session, events)
            await uow.commit()
        await self._after_settling(appointment)
        return view

    async def complete(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        """Staff mark the session completed by hand (the status route): it is settled as its end settles it, with
        the same attendance rules, charge and audit. A session already completed is left as it is and charged
        nothing more: marking it completed again is no change."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = staff_managed(principal, await uow.appointments.get(appointment_id, for_update=True))
            if appointment.status is AppointmentStatus.COMPLETED:
                return appointment
            if appointment.status not in _LIVE:
                raise InvalidState(f"An appointment that is {appointment.status.value} cannot become completed.")
            session = await self._ensure(uow, appointment, for_update=True)
            await self._settle(uow, principal, appointment, session, now)
            await uow.commit()
        await self._after_settling(appointment)
        return appointment

    async def _settle(
        self,
        uow: SessionsUnitOfWork,
        principal: Principal,
        appointment: Appointment,
        session: LiveSession,
        now: datetime,
    ) -> list[SessionEvent]:
        """Inside the caller's transaction, with the appointment and its session locked: the session ends and the
        appointment is completed, only if it took place, and billing records its charge in the same transaction
        (a crash after the commit cannot lose it). Returns the session's events, the end included."""
        events = await uow.live_sessions.events(appointment.id)
        if appointment.status is AppointmentStatus.CHECKED_IN and came_to_chat(
            events, start_modality=appointment.modality, client_id=appointment.client_id
        ):
            # A chat session starts with nobody joining a call: the client came by checking in to it.
            appointment.transition(AppointmentStatus.IN_PROGRESS)
        if appointment.status is not AppointmentStatus.IN_PROGRESS:
            raise InvalidState("The session has not started: both of you have not joined.", code="session_not_started")
        if not _took_place(events, appointment):
            # Refused rather than completed at no charge: `completed` is the record that the session happened
            # (notes, superbills and the therapist's statements follow it), and a client who never came is a
            # no-show, whose fee is the one the client accepted at booking, not a free completion.
            raise InvalidState(
                "This session did not take place: both of you must have joined the call, or the phone call "
                "must have connected. A client who never came is recorded as a no-show.",
                code="session_not_held",
            )
        appointment.transition(AppointmentStatus.COMPLETED)
        await uow.appointments.save(appointment)
        session.ended_at = now
        await self._event(uow, appointment.id, EventKind.ENDED, principal.user_id, now, session.modality)
        await uow.live_sessions.save(session)
        await uow.live_sessions.drop_signals(appointment.id)
        events = await uow.live_sessions.events(appointment.id)
        minutes = connected_minutes(
            events,
            start_modality=appointment.modality,
            participants=frozenset({appointment.therapist_id, appointment.client_id}),
            until=now,
        )
        check_in = await self._check_in(uow, session)
        await uow.audit.append(event_by(principal, "session.end", "appointment", appointment.id, now))
        if self.outcomes is not None:
            await self.outcomes.completed_in(uow, appointment, minutes, check_in.at_home if check_in else None, now)
        return events

    async def _after_settling(self, appointment: Appointment) -> None:
        """After the commit of `_settle` (which charged the session): the relay's room closes, both are told."""
        if self.relay is not None:
            await self._quietly(self.relay.close_room(str(appointment.id)))
        await self._changed(appointment)

    async def minutes(self, principal: Principal, appointment_id: uuid.UUID) -> dict[Modality, int]:
        view = await self.view(principal, appointment_id)
        until = view.session.ended_at or self._clock.now()
        return connected_minutes(
            view.events,
            start_modality=view.appointment.modality,
            participants=frozenset({view.appointment.therapist_id, view.appointment.client_id}),
            until=until,
        )

    # ------------------------------------------------------------------------------ attendance (jobs, telephony)

    def no_show_check(self, appointment: Appointment) -> JobRequest:
        """Queued with a new booking: the check runs once the client is late enough to be a no-show."""
        return JobRequest(
            NO_SHOW_JOB, {"appointment_id": str(appointment.id)}, appointment.start + self._rules.no_show_after
        )

    @staticmethod
    async def client_came_in(uow: SessionsUnitOfWork, appointment: Appointment) -> bool:
        """Inside the caller's transaction: whether the client joined the session (video, audio or the phone)."""
        return _client_came(await uow.live_sessions.events(appointment.id), appointment)

    @staticmethod
    async def took_place_in(uow: SessionsUnitOfWork, appointment: Appointment) -> bool:
        """Inside the caller's transaction: whether both joined the session, or its phone call connected."""
        return _took_place(await uow.live_sessions.events(appointment.id), appointment)

    async def check_no_show(self, appointment_id: uuid.UUID) -> AppointmentStatus | None:
        """The no-show job. A moved appointment re-schedules its check; a cancelled or finished one is left alone."""
        now = self._clock.now()
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id, for_update=True)
            if appointment is None or appointment.status not in (
                AppointmentStatus.BOOKED,
                AppointmentStatus.CHECKED_IN,
            ):
                return appointment.status if appointment else None
            due = appointment.start + self._rules.no_show_after
            if now < due:
                await uow.jobs.enqueue(NO_SHOW_JOB, {"appointment_id": str(appointment.id)}, due)
                await uow.commit()
                return appointment.status
            session = await self._ensure(uow, appointment, for_update=True)
            events = await uow.live_sessions.events(appointment.id)
            if not _client_came(events, appointment):
                appointment.transition(AppointmentStatus.NO_SHOW)
                await uow.appointments.save(appointment)
                await self._event(uow, appointment.id, EventKind.NO_SHOW, appointment.client_id, now)
                await uow.audit.append(_system_event("appointment.no_show", appointment, now))
                if self.outcomes is not None:
                    # Its fee commits with the no-show: a job retried after this commit finds the appointment a
                    # no-show already and would not charge it again.
                    await self.outcomes.no_show_in(uow, appointment, now)
            elif (
                not ever_joined(events, appointment.therapist_id)
                # In chat nobody joins a call: the therapist's absence cannot be told from the timeline.
                and not came_to_chat(events, start_modality=appointment.modality, client_id=appointment.client_id)
                and not any(e.kind is EventKind.THERAPIST_NO_SHOW for e in events)
            ):
                await self._event(uow, appointment.id, EventKind.THERAPIST_NO_SHOW, appointment.therapist_id, now)
                await uow.audit.append(_system_event("session.therapist_no_show", appointment, now))
            await uow.live_sessions.save(session)
            await uow.commit()
        await self._changed(appointment)
        return appointment.status

    async def record_phone_status(self, appointment_id: uuid.UUID, status: str, at: datetime) -> None:
        """Telephony reports the bridged call's progress (`CallStatus` values): it counts as attendance."""
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id, for_update=True)
            if appointment is None:
                raise NotFound("No such appointment.")
            session = await self._ensure(uow, appointment, for_update=True)
            await self._event(uow, appointment.id, EventKind.PHONE_STATUS, None, at, Modality.PHONE, status)
            if status == "in_progress" and appointment.status in (
                AppointmentStatus.BOOKED,
                AppointmentStatus.CHECKED_IN,
            ):
                if appointment.status is AppointmentStatus.BOOKED:
                    appointment.transition(AppointmentStatus.CHECKED_IN)
                appointment.transition(AppointmentStatus.IN_PROGRESS)
                await uow.appointments.save(appointment)
            await uow.live_sessions.save(session)
            await uow.commit()
        await self._changed(appointment)

    # ------------------------------------------------------------------------------ practice setting

    async def require_relayed(self, principal: Principal) -> bool:
        if principal.practice_id is None:
            raise NotFound("No practice.")
        async with self._uow() as uow:
            return await uow.live_sessions.require_relayed(principal.practice_id)

    async def set_require_relayed(self, principal: Principal, required: bool) -> bool:
        if principal.practice_id is None:
            raise NotFound("No practice.")
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.live_sessions.set_require_relayed(principal.practice_id, required, now)
            await uow.audit.append(
                event_by(principal, "practice.session_settings", "practice", principal.practice_id, now)
            )
            await uow.commit()
        return required

    # ------------------------------------------------------------------------------ internals

    async def _appointment(
        self, uow: SessionsUnitOfWork, principal: Principal, appointment_id: uuid.UUID, *, for_update: bool = False
    ) -> Appointment:
        appointment = await uow.appointments.get(appointment_id, for_update=for_update)
        if appointment is None or principal.user_id not in (appointment.therapist_id, appointment.client_id):
            raise NotFound("No such appointment.")
        return appointment

    async def _open(
        self, uow: SessionsUnitOfWork, principal: Principal, appointment_id: uuid.UUID, *, for_update: bool = False
    ) -> tuple[Appointment, LiveSession]:
        appointment = await self._appointment(uow, principal, appointment_id, for_update=for_update)
        return appointment, await self._ensure(uow, appointment, for_update=for_update)

    async def _ensure(
        self, uow: SessionsUnitOfWork, appointment: Appointment, *, for_update: bool = False
    ) -> LiveSession:
        found = await uow.live_sessions.get(appointment.id, for_update=for_update)
        if found is not None:
            return found
        now = self._clock.now()
        key_id, _ = await new_data_key(uow, self._cipher, self._ids.new, now)
        require = await uow.live_sessions.require_relayed(appointment.practice_id)
        session = LiveSession(
            appointment_id=appointment.id,
            practice_id=appointment.practice_id,
            modality=appointment.modality,
            media_path=MediaPath.RELAYED if require and self.relay is not None else MediaPath.P2P,
            data_key_id=key_id,
            created_at=now,
        )
        if not await uow.live_sessions.add(session):
            # A concurrent first visit won (the insert waited for it to commit): use its session.
            found = await uow.live_sessions.get(appointment.id, for_update=for_update)
            if found is None:
                raise Conflict("The session is being opened; try again.", code="session_busy")
            return found
        return session

    def _check_open(self, appointment: Appointment, session: LiveSession, now: datetime) -> None:
        if appointment.status not in _LIVE or session.ended_at is not None:
            raise InvalidState(f"This session is {appointment.status.value}.", code="session_over")
        window = self._rules.window(appointment)
        if not window.contains(now):
            raise OutsideWindow(
                f"Sessions open {int(self._rules.early.total_seconds() // 60)} minutes before the start and close "
                f"{int(self._rules.late.total_seconds() // 60)} minutes after the end.",
            )

    async def _admit(
        self, uow: SessionsUnitOfWork, session: LiveSession, actor: uuid.UUID | None, now: datetime
    ) -> None:
        session.admitted_at = now
        await self._event(uow, session.appointment_id, EventKind.ADMITTED, actor, now)

    async def _event(
        self,
        uow: SessionsUnitOfWork,
        appointment_id: uuid.UUID,
        kind: EventKind,
        actor: uuid.UUID | None,
        at: datetime,
        modality: Modality | None = None,
        detail: str | None = None,
    ) -> uuid.UUID:
        event_id = self._ids.new()
        await uow.live_sessions.add_event(SessionEvent(event_id, appointment_id, at, kind, actor, modality, detail))
        return event_id

    async def _check_in(self, uow: SessionsUnitOfWork, session: LiveSession) -> CheckIn | None:
        if session.check_in is None:
            return None
        key = await data_key(uow, session.data_key_id)
        return _decode_check_in(self._cipher.open(session.check_in, key, _check_in_aad(session.appointment_id)))

    async def _view(
        self,
        uow: SessionsUnitOfWork,
        principal: Principal,
        appointment: Appointment,
        session: LiveSession,
        events: list[SessionEvent] | None = None,
    ) -> SessionView:
        if events is None:
            events = await uow.live_sessions.events(appointment.id)
        check_in = await self._check_in(uow, session)
        warning = None
        if check_in is not None and principal.user_id == appointment.therapist_id:
            profile = await uow.profiles.get(appointment.therapist_id)
            licences = profile.licenses if profile else ()
            if not licensed_for(licences, check_in):
                warning = (
                    f"You hold no licence for {check_in.location_code}, where your client is today "
                    f"(your licences: {', '.join(licences) or 'none'})."
                )
        known = None
        if check_in is None and principal.user_id == appointment.client_id:
            previous = await uow.live_sessions.last_check_in(appointment.client_id, other_than=appointment.id)
            last = await self._check_in(uow, previous) if previous is not None else None
            known = last.emergency_contact if last else None
        now = self._clock.now()
        admitted = session.admitted_at is not None or (
            session.auto_admit and check_in is not None and now >= appointment.start
        )
        return SessionView(
            appointment=appointment,
            session=session,
            window=self._rules.window(appointment),
            events=events,
            connected=frozenset(present(events)),
            admitted=admitted,
            check_in=check_in,
            licence_warning=warning,
            require_relayed=await uow.live_sessions.require_relayed(appointment.practice_id),
            relay_available=self.relay is not None,
            viewer_id=principal.user_id,
            known_emergency_contact=known,
        )

    async def _store_signal(
        self,
        uow: SessionsUnitOfWork,
        appointment: Appointment,
        session: LiveSession,
        sender: uuid.UUID,
        recipients: list[uuid.UUID],
        kind: str,
        payload: dict[str, Any],
    ) -> int:
        # The session row is locked: seq follows commit order, so a recipient's cursor never skips a signal.
        seq = session.last_signal_seq + 1
        key = await data_key(uow, session.data_key_id)
        body = json.dumps(payload)
        now = self._clock.now()
        for recipient in recipients:
            sealed = self._cipher.seal(body, key, _signal_aad(appointment.id, seq, recipient))
            await uow.live_sessions.add_signal(StoredSignal(appointment.id, seq, sender, recipient, kind, sealed, now))
        session.last_signal_seq = seq
        await uow.live_sessions.save(session)
        return seq

    async def _renegotiate(self, appointment: Appointment, about: uuid.UUID, reason: str) -> None:
        """Ask every other present participant to offer again (the relay's roster changed)."""
        async with self._uow() as uow:
            session = await uow.live_sessions.get(appointment.id, for_update=True)
            if session is None:
                return
            others = [u for u in present(await uow.live_sessions.events(appointment.id)) if u != about]
            if not others:
                return
            seq = await self._store_signal(uow, appointment, session, about, others, "renegotiate", {"reason": reason})
            await uow.commit()
        for user in others:
            await self._ring_signal(appointment.id, user, seq)

    async def _changed(self, appointment: Appointment) -> None:
        if self.notifier is None:
            return
        for user in (appointment.therapist_id, appointment.client_id):
            await self._quietly(self.notifier.session_changed(appointment.id, user))

    async def _ring_signal(self, appointment_id: uuid.UUID, user: uuid.UUID, seq: int) -> None:
        if self.notifier is not None:
            await self._quietly(self.notifier.signal(appointment_id, user, seq))

    async def _quietly(self, awaitable: Any) -> None:
        # After the commit the change is safe; a doorbell or relay clean-up that fails must not undo it.
        try:
            await awaitable
        except Exception:
            log.warning("session side effect failed after commit", exc_info=True)


def _therapist_only(principal: Principal, appointment: Appointment) -> None:
    if principal.user_id != appointment.therapist_id:
        raise Forbidden("Only the therapist can do this.", code="therapist_only")


def _system_event(action: str, appointment: Appointment, at: datetime) -> AuditEvent:
    return AuditEvent(
        action=action,
        object_type="appointment",
        object_id=str(appointment.id),
        actor_id=None,
        actor_role="system",
        practice_id=appointment.practice_id,
        outcome=Outcome.SUCCESS,
        occurred_at=at,
    )


def _check_in_aad(appointment_id: uuid.UUID) -> AadContext:
    return AadContext.of("live_sessions", appointment_id, "check_in")


def _signal_aad(appointment_id: uuid.UUID, seq: int, recipient: uuid.UUID) -> AadContext:
    return AadContext.of("session_signals", f"{appointment_id}:{seq}", "body", recipient=recipient)


def _encode_check_in(check_in: CheckIn) -> str:
    return json.dumps(
        {
            "v": 1,
            "country": check_in.country,
            "region": check_in.region,
            "at_home": check_in.at_home,
            "emergency_contact": {"name": check_in.emergency_contact.name, "phone": check_in.emergency_contact.phone},
            "emergency_contact_updated": check_in.emergency_contact_updated,
            "private": check_in.private,
            "submitted_at": check_in.submitted_at.isoformat(),
        }
    )


def _decode_check_in(raw: bytes) -> CheckIn:
    doc = json.loads(raw)
    return CheckIn(
        country=doc["country"],
        region=doc["region"],
        at_home=bool(doc["at_home"]),
        emergency_contact=EmergencyContact(doc["emergency_contact"]["name"], doc["emergency_contact"]["phone"]),
        emergency_contact_updated=bool(doc["emergency_contact_updated"]),
        private=bool(doc["private"]),
        submitted_at=datetime.fromisoformat(doc["submitted_at"]),
    )


def _client_came(events: Sequence[SessionEvent], appointment: Appointment) -> bool:
    return client_came(events, start_modality=appointment.modality, client_id=appointment.client_id)


def _took_place(events: Sequence[SessionEvent], appointment: Appointment) -> bool:
    return took_place(
        events,
        therapist_id=appointment.therapist_id,
        client_id=appointment.client_id,
        start_modality=appointment.modality,
    )
