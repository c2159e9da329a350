from __future__ import annotations

from datetime import timedelta

import pytest

from domain.scheduling.model import AppointmentStatus, CancelledBy
from domain.scheduling.policy import cancel, cancellation_status, is_late_cancellation, mark_no_show
from domain.shared.errors import InvalidState, ValidationFailed
from tests.unit.scheduling.factories import appointment, utc

START = utc(2026, 5, 4, 14)
WINDOW = 24


def test_exactly_the_window_ahead_is_on_time() -> None:
    now = START - timedelta(hours=WINDOW)
    assert cancellation_status(start=START, now=now, window_hours=WINDOW, by=CancelledBy.CLIENT) is (
        AppointmentStatus.CANCELLED
    )


def test_one_second_inside_the_window_is_late() -> None:
    now = START - timedelta(hours=WINDOW) + timedelta(seconds=1)
    assert cancellation_status(start=START, now=now, window_hours=WINDOW, by=CancelledBy.CLIENT) is (
        AppointmentStatus.LATE_CANCELLED
    )


def test_after_the_start_is_late_for_a_client() -> None:
    assert is_late_cancellation(
        start=START, now=START + timedelta(minutes=5), window_hours=WINDOW, by=CancelledBy.CLIENT
    )


@pytest.mark.parametrize("by", [CancelledBy.THERAPIST, CancelledBy.PRACTICE])
@pytest.mark.parametrize("hours_before", [0, 1, 23, 25, 100])
def test_a_therapist_or_the_practice_cancelling_is_never_late(hours_before: int, by: CancelledBy) -> None:
    now = START - timedelta(hours=hours_before)
    assert not is_late_cancellation(start=START, now=now, window_hours=WINDOW, by=by)
    assert cancellation_status(start=START, now=now, window_hours=WINDOW, by=by) is AppointmentStatus.CANCELLED


def test_zero_window_means_never_late_before_the_start() -> None:
    assert not is_late_cancellation(
        start=START, now=START - timedelta(seconds=1), window_hours=0, by=CancelledBy.CLIENT
    )


def test_cancel_records_who_why_and_when() -> None:
    appt = appointment(START)
    now = START - timedelta(hours=2)
    status = cancel(appt, by=CancelledBy.CLIENT, reason="  Car broke down ", now=now, window_hours=WINDOW)
    assert status is AppointmentStatus.LATE_CANCELLED
    assert appt.status is AppointmentStatus.LATE_CANCELLED
    assert appt.cancelled_by is CancelledBy.CLIENT
    assert appt.cancel_reason == "Car broke down"
    assert appt.cancelled_at == now
    assert appt.version == 2
    assert not appt.blocks_time


def test_cancel_on_time_by_client() -> None:
    appt = appointment(START)
    assert cancel(appt, by=CancelledBy.CLIENT, reason=None, now=START - timedelta(days=3), window_hours=WINDOW) is (
        AppointmentStatus.CANCELLED
    )
    assert appt.cancel_reason is None


def test_cannot_cancel_twice_or_a_finished_session() -> None:
    appt = appointment(START)
    cancel(appt, by=CancelledBy.THERAPIST, reason="ill", now=START - timedelta(days=3), window_hours=WINDOW)
    with pytest.raises(InvalidState):
        cancel(appt, by=CancelledBy.CLIENT, reason=None, now=START - timedelta(days=2), window_hours=WINDOW)
    assert appt.cancelled_by is CancelledBy.THERAPIST
    done = appointment(START, status=AppointmentStatus.COMPLETED)
    with pytest.raises(InvalidState):
        cancel(done, by=CancelledBy.CLIENT, reason=None, now=START + timedelta(hours=2), window_hours=WINDOW)


def test_checked_in_client_cancelling_is_late() -> None:
    appt = appointment(START, status=AppointmentStatus.CHECKED_IN)
    assert cancel(appt, by=CancelledBy.CLIENT, reason=None, now=START - timedelta(minutes=3), window_hours=WINDOW) is (
        AppointmentStatus.LATE_CANCELLED
    )


def test_overlong_reason_is_refused() -> None:
    appt = appointment(START)
    with pytest.raises(ValidationFailed) as err:
        cancel(appt, by=CancelledBy.CLIENT, reason="x" * 501, now=START - timedelta(days=3), window_hours=WINDOW)
    assert err.value.code == "invalid_reason"
    assert appt.status is AppointmentStatus.BOOKED


def test_no_show_only_once_started() -> None:
    appt = appointment(START)
    with pytest.raises(ValidationFailed) as err:
        mark_no_show(appt, now=START - timedelta(minutes=1))
    assert err.value.code == "not_started"
    mark_no_show(appt, now=START + timedelta(minutes=10))
    assert appt.status is AppointmentStatus.NO_SHOW
    running = appointment(START, status=AppointmentStatus.IN_PROGRESS)
    with pytest.raises(InvalidState):
        mark_no_show(running, now=START + timedelta(minutes=10))
