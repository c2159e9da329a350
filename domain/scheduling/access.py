"""Who may see and change an appointment. Anything not visible is reported as not found."""

from __future__ import annotations

import uuid

from domain.scheduling.model import Appointment
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.shared.errors import Forbidden, NotFound
from domain.shared.principal import Principal, Role


def can_see(principal: Principal, appointment: Appointment) -> bool:
    if principal.role is Role.CLIENT:
        return appointment.client_id == principal.user_id
    return principal.practice_id is not None and appointment.practice_id == principal.practice_id


def can_manage(principal: Principal, appointment: Appointment) -> bool:
    """Clients manage their own sessions, therapists theirs, practice admins all of their practice's."""
    if principal.role is Role.CLIENT:
        return appointment.client_id == principal.user_id
    if principal.role is Role.THERAPIST:
        return appointment.therapist_id == principal.user_id
    return can_see(principal, appointment)


def visible_or_404(principal: Principal, appointment: Appointment | None) -> Appointment:
    if appointment is None or not can_see(principal, appointment):
        raise NotFound("No such appointment.")
    return appointment


def managed_or_refused(principal: Principal, appointment: Appointment | None) -> Appointment:
    """The appointment `principal` may change: anything not visible is `NotFound`, a visible one they may not
    manage (another therapist's in the practice) `Forbidden`."""
    appointment = visible_or_404(principal, appointment)
    if not can_manage(principal, appointment):
        raise Forbidden("Only the session's participants can change it.", code="forbidden")
    return appointment


def staff_managed(principal: Principal, appointment: Appointment | None) -> Appointment:
    """For a staff change of a session's progress (check-in, start, completion, no-show by hand): clients do not
    see these changes (`NotFound`), otherwise as `managed_or_refused`."""
    if principal.role is Role.CLIENT:
        raise NotFound("No such appointment.")
    return managed_or_refused(principal, appointment)


async def lock_bookable_therapist(uow: SchedulingUnitOfWork, therapist_id: uuid.UUID) -> None:
    """Take the therapist's booking lock and read them again under it. A removal (ADR 18) and a promotion to admin
    (ADR 21) take the lock too, so a booking or waitlist join that waited on it finds them gone: NotFound."""
    await uow.appointments.lock_therapist(therapist_id)
    therapist = await uow.users.get(therapist_id)
    if therapist is None or not therapist.active or therapist.role is not Role.THERAPIST:
        raise NotFound("No such therapist.")
