"""A session's phone call: the bridge of two legs, its status timeline, and how provider events move it.

Call-level status: `queued` until the therapist's phone rings, `ringing` while either leg rings (the therapist
has answered and the client's phone rings), `in_progress` once both are connected, then one terminal status.
The first terminal event of either leg ends the call; events after that only fill in the talk time.
Provider events arrive at least once and in any order: `apply` ignores a duplicate and never moves the status
backwards, so replaying a webhook changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.telephony.ports import CallEvent, CallLeg, CallStatus

LIVE_STATUSES: frozenset[CallStatus] = frozenset({CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS})
_RANK = {CallStatus.QUEUED: 0, CallStatus.RINGING: 1, CallStatus.IN_PROGRESS: 2}

# A call can be placed from a little before the session until a little after its planned end (late starts).
CALL_OPENS_BEFORE_START = timedelta(minutes=15)
CALL_CLOSES_AFTER_END = timedelta(minutes=15)

# How long a call may stay `queued` with no word from the provider before it counts as never placed. Placing it
# is one request to the provider, plus a lookup of two requests when that request's answer is lost (each bounded
# by the adapter's timeout, 10 s by default), and the provider's first webhook follows within seconds of the call
# existing. A row still silent after this long was left by a process that died, or a task cancelled, between
# committing the row and asking the provider: nothing would ever end it, and it would block every later call.
UNPLACED_CALL_EXPIRES_AFTER = timedelta(seconds=60)


class CallTrigger(StrEnum):
    THERAPIST = "therapist"  # the "call client" button, or a step-down from video/audio
    SCHEDULED = "scheduled"  # a phone session's start time


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    leg: CallLeg
    status: CallStatus
    at: datetime
    provider_call_id: str


@dataclass(slots=True)
class PhoneCall:
    id: uuid.UUID
    appointment_id: uuid.UUID
    practice_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    trigger: CallTrigger
    status: CallStatus
    created_at: datetime
    provider_call_id: str | None = None
    second_call_id: str | None = None
    therapist_answered_at: datetime | None = None
    answered_at: datetime | None = None  # both parties connected
    ended_at: datetime | None = None
    duration_seconds: int | None = None  # connected (talk) time
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def unconfirmed(self) -> bool:
        """Live, but the provider has not told us of it yet (no call id, no event): it may not exist."""
        return self.status is CallStatus.QUEUED and not self.reached_provider

    @property
    def reached_provider(self) -> bool:
        """The provider has (or had) this call: it gave its id, or told of it in an event."""
        return self.provider_call_id is not None or bool(self.timeline)

    def abandoned(self, now: datetime) -> bool:
        """Never reached the provider, and never will (see `UNPLACED_CALL_EXPIRES_AFTER`)."""
        return self.unconfirmed and now - self.created_at >= UNPLACED_CALL_EXPIRES_AFTER

    def fail(self, now: datetime) -> None:
        """Ends a call the provider never had (refused, or `abandoned`): no event will ever end it."""
        self.status, self.ended_at = CallStatus.FAILED, now

    def apply(self, event: CallEvent) -> bool:
        """Fold one provider event in; True when the call-level status changed."""
        entry = TimelineEntry(event.leg, event.status, event.at, event.provider_call_id)
        if any(
            (e.leg, e.status, e.provider_call_id) == (entry.leg, entry.status, entry.provider_call_id)
            for e in self.timeline
        ):
            return False
        self.timeline.append(entry)
        if event.leg is CallLeg.FIRST and self.provider_call_id is None:
            self.provider_call_id = event.provider_call_id
        if event.leg is CallLeg.SECOND and self.second_call_id is None:
            self.second_call_id = event.provider_call_id
        before = self.status

        if event.status in LIVE_STATUSES:
            if event.status is CallStatus.IN_PROGRESS and event.leg is CallLeg.FIRST:
                self.therapist_answered_at = self.therapist_answered_at or event.at
                target = CallStatus.RINGING  # now the client's phone rings
            elif event.status is CallStatus.IN_PROGRESS:
                self.answered_at = self.answered_at or event.at
                target = CallStatus.IN_PROGRESS
            else:
                target = event.status
            if self.live and _RANK[target] > _RANK[self.status]:
                self.status = target
        else:
            self._end(event)
        return self.status is not before

    def _end(self, event: CallEvent) -> None:
        if event.leg is CallLeg.SECOND and self.answered_at is not None and event.duration_seconds is not None:
            self.duration_seconds = event.duration_seconds  # the provider's count of the bridged leg wins
        if not self.live:
            return
        self.ended_at = event.at
        if self.answered_at is not None:
            self.status = CallStatus.COMPLETED
            if self.duration_seconds is None:
                self.duration_seconds = max(0, round((event.at - self.answered_at).total_seconds()))
        elif event.leg is CallLeg.FIRST and event.status is CallStatus.COMPLETED and self.therapist_answered_at:
            self.status = CallStatus.CANCELED  # the therapist hung up before the client answered
        else:
            self.status = event.status
