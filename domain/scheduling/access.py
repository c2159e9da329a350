"""Who may see and change an appointment. Anything not visible is reported as not found."""

from __future__ import annotations

from domain.scheduling.model import Appointment
from domain.shared.errors import NotFound
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
