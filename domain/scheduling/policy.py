"""Cancellation policy and no-show marking.

A client who cancels less than `cancellation_window_hours` before the start (or after it) makes a late
cancellation, recorded for billing; exactly the window ahead is still on time. A therapist (or a practice admin
for them) cancelling is never a late cancellation of the client.

A late cancellation that costs a fee happens only with the client's explicit acceptance of that exact fee (amount
and currency) in the cancel request: without it, or for another amount, the cancel is refused with
`LateFeeNotAccepted`, which carries the current terms so the client can be shown them and retry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.scheduling.localtime import ensure_utc
from domain.scheduling.model import Appointment, AppointmentStatus, CancelledBy, Money
from domain.shared.errors import Conflict, ValidationFailed

MAX_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class CancellationTerms:
    """What cancelling an appointment means for its client, under the policy version they accepted."""

    appointment_id: uuid.UUID
    policy_version: int | None  # None: the client accepted no policy, so no fee is ever due
    window_hours: int
    late_from: datetime  # a client's cancellation from this moment on is late
    late_now: bool  # the caller cancelling now would make a late cancellation
    late_cancellation_fee: Money | None  # what a late cancellation costs the client, or None


class LateFeeNotAccepted(Conflict):
    """A late cancellation with a fee, sent without the client's acceptance of exactly `fee_due`."""

    code = "late_fee_not_accepted"

    def __init__(self, fee_due: Money, terms: CancellationTerms) -> None:
        super().__init__(
            "This cancellation is late and costs a fee: accept that fee (send it as `accept_late_fee`) to cancel."
        )
        self.fee_due = fee_due  # what this cancel request would charge (a series' late occurrences together)
        self.terms = terms  # the terms of the appointment named in the request


def require_fee_accepted(fee_due: Money | None, accepted: Money | None, terms: CancellationTerms) -> None:
    """Pass when nothing is due, or when the client accepted exactly the fee due (an older or other amount, or
    another currency, does not count)."""
    if fee_due is not None and accepted != fee_due:
        raise LateFeeNotAccepted(fee_due, terms)


def is_late_cancellation(*, start: datetime, now: datetime, window_hours: int, by: CancelledBy) -> bool:
    if by is not CancelledBy.CLIENT:
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
