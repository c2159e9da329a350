"""Cancellation policy and no-show marking.

A client who cancels less than `cancellation_window_hours` before the start (or after it) makes a late
cancellation, recorded for billing; exactly the window ahead is still on time. A therapist (or a practice admin
for them) cancelling is never a late cancellation of the client.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.scheduling.localtime import ensure_utc
from domain.scheduling.model import Appointment, AppointmentStatus, CancelledBy
from domain.shared.errors import ValidationFailed

MAX_REASON_LENGTH = 500


def is_late_cancellation(*, start: datetime, now: datetime, window_hours: int, by: CancelledBy) -> bool:
    if by is CancelledBy.THERAPIST:
        return False
    return ensure_utc(start, field="start") - ensure_utc(now, field="now") < timedelta(hours=window_hours)


def cancellation_status(*, start: datetime, now: datetime, window_hours: int, by: CancelledBy) -> AppointmentStatus:
    """`late_cancelled` for a client inside the window, else `cancelled`."""
    late = is_late_cancellation(start=start, now=now, window_hours=window_hours, by=by)
    return AppointmentStatus.LATE_CANCELLED if late else AppointmentStatus.CANCELLED


def cancel(
    appointment: Appointment,
    *,
    by: CancelledBy,
    reason: str | None,
    now: datetime,
    window_hours: int,
) -> AppointmentStatus:
    """Cancel `appointment` in place by the policy and return its new status. Raises `InvalidState` when its
    status cannot be cancelled (already cancelled, in progress, completed, no-show) and `ValidationFailed`
    (`invalid_reason`) for a reason over 500 characters."""
    text = (reason or "").strip() or None
    if text is not None and len(text) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            f"A reason is at most {MAX_REASON_LENGTH} characters.", code="invalid_reason", field="reason"
        )
    now = ensure_utc(now, field="now")
    status = cancellation_status(start=appointment.start, now=now, window_hours=window_hours, by=by)
    appointment.transition(status)
    appointment.cancelled_by = by
    appointment.cancel_reason = text
    appointment.cancelled_at = now
    return status


def mark_no_show(appointment: Appointment, *, now: datetime) -> None:
    """Mark a booked or checked-in appointment a no-show; only once it should have started (`not_started`)."""
    if ensure_utc(now, field="now") < appointment.start:
        raise ValidationFailed("The session has not started yet.", code="not_started")
    appointment.transition(AppointmentStatus.NO_SHOW)
