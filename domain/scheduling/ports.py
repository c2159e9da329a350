"""What the scheduling use cases need from storage and the outside world."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.ports import UserRepository
from domain.scheduling.model import Appointment, OfficeHours, TherapistProfile
from domain.scheduling.recurrence import Series
from domain.scheduling.waitlist import WaitlistEntry, WaitlistOffer
from domain.shared.jobs import JobScheduler
from domain.shared.paging import After
from domain.shared.ports import UnitOfWork


class ProfileRepository(Protocol):
    async def get(self, therapist_id: uuid.UUID) -> TherapistProfile | None: ...

    async def save(self, profile: TherapistProfile, practice_id: uuid.UUID, *, expected_version: int) -> bool:
        """Insert (expected_version 0) or update when the stored version matches; False on a stale write."""

    async def list_accepting(self, *, after: uuid.UUID | None, limit: int) -> list[TherapistProfile]: ...


class OfficeHoursRepository(Protocol):
    async def get(self, therapist_id: uuid.UUID) -> OfficeHours | None: ...

    async def save(self, therapist_id: uuid.UUID, hours: OfficeHours, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class AppointmentQuery:
    client_id: uuid.UUID | None = None
    practice_id: uuid.UUID | None = None
    therapist_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # keyset cursor: (start, id)
    limit: int = 50
    newest_first: bool = False


@dataclass(frozen=True, slots=True)
class ClientInCare:
    client_id: uuid.UUID
    display_name: str
    since: datetime
    next_appointment: Appointment | None  # the earliest booked one starting after now, whatever its practice


class AppointmentRepository(Protocol):
    async def lock_therapist(self, therapist_id: uuid.UUID) -> None:
        """Serialise bookings of one therapist for this transaction (buffers and daily limits are checked
        in Python; overlap itself is refused by the database whatever happens)."""

    async def add(self, appointment: Appointment, *, recoverable: bool = True) -> None:
        """Raises Conflict(code="slot_taken") when the interval overlaps an active appointment. `recoverable`:
        the unit of work can go on after that (a series books its other dates); otherwise the conflict ends
        the transaction, which saves a savepoint's two round trips."""

    async def save(self, appointment: Appointment) -> None:
        """Raises Conflict(code="slot_taken") when a new interval overlaps an active appointment."""

    async def get(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> Appointment | None: ...

    async def blocking_for_therapist(
        self, therapist_id: uuid.UUID, start: datetime, end: datetime, *, exclude: uuid.UUID | None = None
    ) -> list[Appointment]: ...

    async def busy(self, therapist_id: uuid.UUID, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Just the (start, end) of the therapist's time-blocking appointments overlapping the window."""

    async def find(self, query: AppointmentQuery) -> list[Appointment]: ...

    async def for_series(self, series_id: uuid.UUID) -> list[Appointment]: ...

    async def changed_for_user(self, user_id: uuid.UUID, since: datetime) -> list[Appointment]:
        """Every appointment where the user is therapist or client, starting after `since`."""


class SeriesRepository(Protocol):
    async def add(self, series: Series) -> None: ...

    async def get(self, series_id: uuid.UUID) -> Series | None: ...

    async def save(self, series: Series) -> None: ...


class CareRepository(Protocol):
    async def ensure(
        self, client_id: uuid.UUID, therapist_id: uuid.UUID, practice_id: uuid.UUID, now: datetime
    ) -> bool:
        """Start a care relationship unless one is active; True when a new one started."""

    async def is_active(self, client_id: uuid.UUID, therapist_id: uuid.UUID) -> bool: ...

    async def clients_of(
        self, therapist_id: uuid.UUID, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ClientInCare]:
        """The therapist's clients in active care, most recent relationship first; `after` is the keyset
        cursor (started_at, client_id) of the previous page's last row."""

    async def names_for(self, therapist_id: uuid.UUID, client_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The display names of those of `client_ids` the therapist has or had in care, or who wait on their
        waitlist now; anyone else is absent."""


@dataclass(frozen=True, slots=True)
class StoredOffer:
    id: uuid.UUID
    therapist_id: uuid.UUID
    offer: WaitlistOffer
    claimed_appointment_id: uuid.UUID | None = None


class WaitlistRepository(Protocol):
    async def add_entry(self, entry: WaitlistEntry) -> None:
        """Raises Conflict(code="already_waitlisted") for a second active entry with the same therapist."""

    async def entry(self, entry_id: uuid.UUID) -> WaitlistEntry | None: ...

    async def remove_entry(self, entry_id: uuid.UUID, now: datetime) -> None: ...

    async def entries_for_therapist(
        self, therapist_id: uuid.UUID, *, after: After = None, limit: int | None = None
    ) -> list[WaitlistEntry]:
        """Active entries, oldest first by (created_at, id), strictly after `after`."""

    async def entries_for_client(
        self, client_id: uuid.UUID, *, after: After = None, limit: int | None = None
    ) -> list[WaitlistEntry]:
        """Active entries, oldest first by (created_at, id), strictly after `after`."""

    async def add_offer(self, offer: StoredOffer, now: datetime) -> None: ...

    async def offer(self, offer_id: uuid.UUID, *, for_update: bool = False) -> StoredOffer | None: ...

    async def open_offers_for_client(
        self, client_id: uuid.UUID, now: datetime, *, after: After, limit: int
    ) -> list[StoredOffer]:
        """Unclaimed, unexpired offers, soonest time first by (start, id), strictly after `after`."""

    async def mark_claimed(self, offer_id: uuid.UUID, appointment_id: uuid.UUID) -> None: ...

    async def close_for_therapist(self, therapist_id: uuid.UUID, now: datetime) -> list[WaitlistEntry]:
        """Remove every active entry for the therapist (as `remove_entry`); returns those it removed."""

    async def withdraw_offers(self, therapist_id: uuid.UUID, now: datetime) -> int:
        """End every unclaimed offer of the therapist's time still open (or yet to open) at `now`."""


class ReminderChannel:
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class DueReminder:
    id: uuid.UUID
    appointment_id: uuid.UUID
    recipient_id: uuid.UUID
    channel: str
    due_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class NewReminder:
    id: uuid.UUID
    appointment_id: uuid.UUID
    recipient_id: uuid.UUID
    channel: str
    due_at: datetime


class ReminderRepository(Protocol):
    async def schedule(self, new: Sequence[NewReminder]) -> None:
        """All of an appointment's reminders in one statement."""

    async def cancel_pending(self, appointment_id: uuid.UUID) -> int: ...

    async def pending(self, reminder_id: uuid.UUID) -> DueReminder | None:
        """The reminder if it is still pending, locked for this transaction."""

    async def mark_sent(self, reminder_id: uuid.UUID, now: datetime) -> None: ...

    async def note_attempt(self, reminder_id: uuid.UUID, error: str) -> None: ...

    async def mark_failed(self, reminder_id: uuid.UUID, error: str) -> None: ...

    async def mark_expired(self, reminder_id: uuid.UUID) -> None:
        """Not sent because its session had already begun."""

    async def give_up(self, reminder_id: uuid.UUID, error: str) -> bool:
        """Failed for good if still pending, its attempts already counted; False when it was not pending."""


class CalendarFeedRepository(Protocol):
    async def replace(self, user_id: uuid.UUID, token_hash: str, now: datetime) -> None:
        """Revoke the user's feed tokens and store a new one."""

    async def revoke_all(self, user_id: uuid.UUID, now: datetime) -> None: ...

    async def user_for(self, token_hash: str) -> uuid.UUID | None: ...


class AcceptedPolicies(Protocol):
    """The therapist's cancellation policy as booking and cancelling need it (billing owns the policy itself)."""

    async def current_terms(self, therapist_id: uuid.UUID) -> tuple[int, int] | None:
        """(version, window hours) of the therapist's current policy, or None when they have none."""

    async def window_hours(self, therapist_id: uuid.UUID, version: int) -> int | None: ...


class SchedulingUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    profiles: ProfileRepository
    office_hours: OfficeHoursRepository
    appointments: AppointmentRepository
    series: SeriesRepository
    care: CareRepository
    waitlist: WaitlistRepository
    reminders: ReminderRepository
    calendar_feeds: CalendarFeedRepository
    accepted_policies: AcceptedPolicies
    audit: AuditLog
    jobs: JobScheduler
