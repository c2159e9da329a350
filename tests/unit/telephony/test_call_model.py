"""How provider events move a phone call: order, duplicates, and which leg ends it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.shared.errors import ValidationFailed
from domain.shared.phone import normalise_phone
from domain.telephony.model import UNPLACED_CALL_EXPIRES_AFTER, CallTrigger, PhoneCall
from domain.telephony.ports import CallEvent, CallLeg, CallStatus

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
S = CallStatus
FIRST, SECOND = CallLeg.FIRST, CallLeg.SECOND


def new_call() -> PhoneCall:
    return PhoneCall(
        id=uuid.uuid4(),
        appointment_id=uuid.uuid4(),
        practice_id=uuid.uuid4(),
        therapist_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        trigger=CallTrigger.THERAPIST,
        status=S.QUEUED,
        created_at=T0,
    )


def ev(leg: CallLeg, status: CallStatus, seconds: int, duration: int | None = None) -> CallEvent:
    return CallEvent("CA1" if leg is FIRST else "CA2", status, T0 + timedelta(seconds=seconds), duration, leg)


def test_the_status_follows_the_bridge():
    call = new_call()
    assert call.apply(ev(FIRST, S.RINGING, 1)) and call.status is S.RINGING
    assert not call.apply(ev(FIRST, S.IN_PROGRESS, 5))  # therapist answered: the client's phone rings now
    assert call.status is S.RINGING and call.therapist_answered_at == T0 + timedelta(seconds=5)
    assert call.apply(ev(SECOND, S.IN_PROGRESS, 12)) and call.status is S.IN_PROGRESS
    assert call.apply(ev(FIRST, S.COMPLETED, 612))
    assert call.status is S.COMPLETED and call.duration_seconds == 600 and call.ended_at == T0 + timedelta(seconds=612)
    assert call.provider_call_id == "CA1" and call.second_call_id == "CA2"


def test_duplicates_and_late_events_change_nothing():
    call = new_call()
    for event in (ev(FIRST, S.IN_PROGRESS, 5), ev(SECOND, S.IN_PROGRESS, 9), ev(SECOND, S.COMPLETED, 69, 60)):
        call.apply(event)
    snapshot = (call.status, call.ended_at, call.duration_seconds, len(call.timeline))
    assert not call.apply(ev(SECOND, S.COMPLETED, 80, 60))
    assert not call.apply(ev(FIRST, S.RINGING, 90))
    assert not call.apply(ev(SECOND, S.IN_PROGRESS, 91))
    assert (call.status, call.ended_at, call.duration_seconds) == snapshot[:3]
    assert len(call.timeline) == snapshot[3] + 1  # only the late first-leg ringing was new: kept for the record


def test_a_late_second_leg_duration_replaces_the_estimate():
    call = new_call()
    call.apply(ev(SECOND, S.IN_PROGRESS, 10))
    call.apply(ev(FIRST, S.COMPLETED, 75))
    assert call.duration_seconds == 65
    call.apply(ev(SECOND, S.COMPLETED, 76, 64))
    assert call.duration_seconds == 64 and call.status is S.COMPLETED


@pytest.mark.parametrize(
    ("events", "final"),
    [
        ([ev(FIRST, S.NO_ANSWER, 30)], S.NO_ANSWER),  # the therapist did not pick up
        ([ev(FIRST, S.BUSY, 2)], S.BUSY),
        ([ev(FIRST, S.IN_PROGRESS, 5), ev(SECOND, S.BUSY, 7), ev(FIRST, S.COMPLETED, 8)], S.BUSY),
        ([ev(FIRST, S.IN_PROGRESS, 5), ev(FIRST, S.COMPLETED, 9)], S.CANCELED),  # therapist gave up waiting
    ],
)
def test_unanswered_calls_end_with_the_reason(events, final):
    call = new_call()
    for event in events:
        call.apply(event)
    assert call.status is final and call.answered_at is None and call.duration_seconds is None
    assert not call.live


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("+14155550123", "+14155550123"), ("+1 (415) 555-0123", "+14155550123"), ("0044 20 7946 0000", "+442079460000")],
)
def test_numbers_are_normalised_to_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["4155550123", "+0123456789", "+1 415 555 0123 ext 4", "+12345", "+1234567890123456"])
def test_other_numbers_are_refused(typed):
    with pytest.raises(ValidationFailed) as caught:
        normalise_phone(typed)
    assert caught.value.code == "invalid_phone"


def test_only_a_call_the_provider_never_mentioned_is_abandoned_and_only_after_the_bound():
    call = new_call()
    assert not call.abandoned(T0 + UNPLACED_CALL_EXPIRES_AFTER - timedelta(seconds=1))  # may still be on its way
    assert call.abandoned(T0 + UNPLACED_CALL_EXPIRES_AFTER)
    told = new_call()
    told.apply(ev(SECOND, S.QUEUED, 2))  # an event, even out of order, proves the provider has it
    assert told.status is S.QUEUED and told.provider_call_id is None
    assert not told.abandoned(T0 + timedelta(hours=1))
    placed = new_call()
    placed.provider_call_id = "CA1"
    assert not placed.abandoned(T0 + timedelta(hours=1))
