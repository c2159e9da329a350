"""Sends one reminder when its job comes due. A cancelled or moved appointment's old reminders are no
longer pending, so their jobs find nothing to send; one whose job runs after the session began (a retry, a worker
that was down) expires unsent."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from domain.scheduling.model import AppointmentStatus
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.scheduling.reminders import reminder_message
from domain.shared.notify import DeliveryFailed, EmailMessage, EmailSender, SmsMessage, SmsSender
from domain.shared.ports import Clock


class ReminderService:
    def __init__(
        self,
        uow: Callable[[], SchedulingUnitOfWork],
        clock: Clock,
        email: EmailSender,
        sms: SmsSender,
        base_url: str,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._email = email
        self._sms = sms
        self._base_url = base_url

    async def send(self, reminder_id: uuid.UUID) -> bool:
        """True when a reminder went out. A transient delivery failure is raised, so the job queue retries."""
        async with self._uow() as uow:
            due = await uow.reminders.pending(reminder_id)
            if due is None:
                return False
            appointment = await uow.appointments.get(due.appointment_id)
            recipient = await uow.users.get(due.recipient_id)
            if appointment is None or recipient is None or appointment.status is not AppointmentStatus.BOOKED:
                await uow.reminders.mark_failed(due.id, "appointment no longer booked")
                await uow.commit()
                return False
            if self._clock.now() >= appointment.start:
                # Still booked only because the no-show check has not run yet; a reminder now would be noise.
                await uow.reminders.mark_expired(due.id)
                await uow.commit()
                return False
            other_id = appointment.therapist_id if recipient.id == appointment.client_id else appointment.client_id
            other = await uow.users.get(other_id)
            message = reminder_message(
                appointment_id=appointment.id,
                start=appointment.start,
                duration_minutes=appointment.duration_minutes,
                modality=appointment.modality,
                recipient_timezone=recipient.timezone,
                other_party_name=other.display_name if other else "",
                base_url=self._base_url,
            )
            try:
                if due.channel == "sms":
                    if not recipient.phone:
                        raise DeliveryFailed("no phone number on file", permanent=True)
                    await self._sms.send(SmsMessage(to=recipient.phone, text=message.sms))
                else:
                    await self._email.send(EmailMessage(to=recipient.email, subject=message.subject, text=message.body))
            except DeliveryFailed as problem:
                if problem.permanent:
                    await uow.reminders.mark_failed(due.id, str(problem))
                    await uow.commit()
                    return False
                await uow.reminders.note_attempt(due.id, str(problem))
                await uow.commit()
                raise
            await uow.reminders.mark_sent(due.id, self._clock.now())
            await uow.commit()
        return True

    async def give_up(self, reminder_id: uuid.UUID, reason: str) -> None:
        """The job queue stopped retrying this reminder: it is failed, not left pending for ever."""
        async with self._uow() as uow:
            if await uow.reminders.give_up(reminder_id, reason):
                await uow.commit()
