"""Waitlist use cases: join and leave, offer freed time, claim an offer through the booking path."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.scheduling.access import lock_bookable_therapist
from domain.scheduling.model import Appointment, Modality, TimeRange
from domain.scheduling.ports import SchedulingUnitOfWork, StoredOffer
from domain.scheduling.reminders import first_name, format_local
from domain.scheduling.service import BookingRequest, Freed, SchedulingService
from domain.scheduling.waitlist import (
    DEFAULT_CLAIM_WINDOW,
    WaitlistEntry,
    ensure_offer_open,
    match_freed_interval,
    validate_waitlist_entry,
)
from domain.shared.errors import NotFound
from domain.shared.jobs import JobRequest
from domain.shared.notify import EmailMessage, EmailSender
from domain.shared.paging import After, Page
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

# One email per offer, queued in the transaction that stores the offers (the one that freed the time): the queue
# retries a refused email, and the cancellation or move never waits for (or fails with) the mail server.
OFFER_EMAIL_JOB = "waitlist.offer_email"
# One email per entry closed because its therapist left the practice, queued in the removal's transaction.
CLOSED_EMAIL_JOB = "waitlist.closed_email"


@dataclass(frozen=True, slots=True)
class JoinWaitlist:
    therapist_id: uuid.UUID
    durations: tuple[int, ...]
    weekdays: frozenset[int] = frozenset()
    time_ranges: tuple[TimeRange, ...] = ()
    modality: Modality | None = None


class WaitlistService:
    def __init__(
        self,
        uow: Callable[[], SchedulingUnitOfWork],
        scheduling: SchedulingService,
        clock: Clock,
        ids: IdGenerator,
        email: EmailSender,
        base_url: str,
        claim_window: timedelta = DEFAULT_CLAIM_WINDOW,
    ) -> None:
        self._uow = uow
        self._scheduling = scheduling
        self._clock = clock
        self._ids = ids
        self._email = email
        self._base_url = base_url.rstrip("/")
        self._claim_window = claim_window

    async def join(self, principal: Principal, request: JoinWaitlist) -> WaitlistEntry:
        async with self._uow() as uow:
            therapist = await uow.users.get(request.therapist_id)
            client = await uow.users.get(principal.user_id)
            if therapist is None or therapist.role is not Role.THERAPIST or not therapist.active or client is None:
                raise NotFound("No such therapist.")
            entry = WaitlistEntry(
                id=self._ids.new(),
                client_id=principal.user_id,
                therapist_id=therapist.id,
                timezone=client.timezone,
                durations=request.durations,
                created_at=self._clock.now(),
                weekdays=request.weekdays,
                time_ranges=request.time_ranges,
                modality=request.modality,
            )
            validate_waitlist_entry(entry)
            # As a booking does: a removal or a promotion to admin closes the entries it sees under the lock, so an
            # entry must not commit after theirs for a therapist who is gone now.
            await lock_bookable_therapist(uow, therapist.id)
            await uow.waitlist.add_entry(entry)
            await uow.commit()
        return entry

    async def leave(self, principal: Principal, entry_id: uuid.UUID) -> None:
        async with self._uow() as uow:
            entry = await uow.waitlist.entry(entry_id)
            if entry is None or entry.client_id != principal.user_id:
                raise NotFound("No such waitlist entry.")
            await uow.waitlist.remove_entry(entry_id, self._clock.now())
            await uow.commit()

    async def entries(self, principal: Principal, *, after: After = None, limit: int = 50) -> Page[WaitlistEntry]:
        """A client's entries or a therapist's waitlist, oldest first by (created_at, id), after `after`."""
        async with self._uow() as uow:
            if principal.role is Role.CLIENT:
                found = await uow.waitlist.entries_for_client(principal.user_id, after=after, limit=limit + 1)
            elif principal.role is Role.THERAPIST:
                found = await uow.waitlist.entries_for_therapist(principal.user_id, after=after, limit=limit + 1)
            else:
                found = []
        return Page.of(found, limit)

    async def offers(self, principal: Principal, *, after: After = None, limit: int = 50) -> Page[StoredOffer]:
        """The caller's open offers, soonest time first by (start, id), after `after`."""
        async with self._uow() as uow:
            found = await uow.waitlist.open_offers_for_client(
                principal.user_id, self._clock.now(), after=after, limit=limit + 1
            )
        return Page.of(found, limit)

    async def offer_in(self, uow: SchedulingUnitOfWork, freed: Freed) -> list[StoredOffer]:
        """Inside the transaction that freed the interval (see `SchedulingService.release_in`): offer it to
        matching waitlisted clients; each offer's email is a job (see `email_offer`), queued in that transaction."""
        now = self._clock.now()
        if freed.end <= now:
            return []
        entries = await uow.waitlist.entries_for_therapist(freed.therapist_id)
        offers = match_freed_interval(
            entries,
            therapist_id=freed.therapist_id,
            freed_start=freed.start,
            freed_end=freed.end,
            freed_modality=freed.modality,
            now=now,
            claim_window=self._claim_window,
            exclude_client_id=freed.client_id,
        )
        stored: list[StoredOffer] = []
        for offer in offers:
            item = StoredOffer(id=self._ids.new(), therapist_id=freed.therapist_id, offer=offer)
            await uow.waitlist.add_offer(item, now)
            stored.append(item)
        await uow.jobs.enqueue_many(
            [JobRequest(OFFER_EMAIL_JOB, {"offer_id": str(o.id)}, o.offer.valid_from) for o in stored]
        )
        return stored

    async def close_for_therapist_in(
        self, uow: SchedulingUnitOfWork, therapist_id: uuid.UUID, now: datetime
    ) -> list[WaitlistEntry]:
        """Inside the caller's transaction (the therapist leaves the group practice, ADR 18): every waiting entry
        for them is closed, as if its client had left the waitlist, and offers of their time still open are
        withdrawn; each client is told by an email job (see `email_closed`) queued in that transaction."""
        closed = await uow.waitlist.close_for_therapist(therapist_id, now)
        await uow.waitlist.withdraw_offers(therapist_id, now)
        await uow.jobs.enqueue_many(
            [
                JobRequest(CLOSED_EMAIL_JOB, {"client_id": str(e.client_id), "therapist_id": str(therapist_id)}, now)
                for e in closed
            ]
        )
        return closed

    async def email_closed(self, client_id: uuid.UUID, therapist_id: uuid.UUID) -> bool:
        """The closed-entry email job: the client is no longer waiting for this therapist's time, and may look for
        another. Names and a link only, nothing private. A transient delivery failure is raised (the queue
        retries); True when it was sent."""
        async with self._uow() as uow:
            client = await uow.users.get(client_id)
            therapist = await uow.users.get(therapist_id)
            profile = await uow.profiles.get(therapist_id)  # the name the client saw in the directory
        if client is None or therapist is None:
            return False
        name = first_name(profile.display_name if profile else therapist.display_name) or "Your therapist"
        await self._email.send(
            EmailMessage(
                to=client.email,
                subject="A waitlist you were on has closed",
                text=(
                    f"{name} can no longer be booked, so you are no longer on their waitlist and will not be "
                    "offered their times.\n\n"
                    f"You can find another therapist, or join another waitlist, in Hearth: "
                    f"{self._base_url}/client/therapists\n"
                ),
            )
        )
        return True

    async def email_offer(self, offer_id: uuid.UUID) -> bool:
        """The offer-email job: tell the client their offer is open (no clinical content). True when it was sent.

        A transient delivery failure is raised, so the queue retries with backoff. An offer claimed or expired by
        then is not emailed: a retry that comes late must not invite the client to a time they can no longer take."""
        async with self._uow() as uow:
            item = await uow.waitlist.offer(offer_id)
            if item is None or item.claimed_appointment_id is not None or self._clock.now() >= item.offer.expires_at:
                return False
            client = await uow.users.get(item.offer.client_id)
            therapist = await uow.users.get(item.therapist_id)
        if client is None or therapist is None:
            return False
        when = format_local(item.offer.start, client.timezone)
        name = first_name(therapist.display_name) or "your therapist"
        await self._email.send(
            EmailMessage(
                to=client.email,
                subject="A session time opened up",
                text=(
                    f"A {item.offer.duration_minutes}-minute time with {name} opened up: {when}.\n\n"
                    f"The first to claim it gets it. Claim it in Hearth before it expires: "
                    f"{self._base_url}/client/waitlist\n"
                ),
            )
        )
        return True

    async def claim(self, principal: Principal, offer_id: uuid.UUID) -> Appointment:
        async with self._uow() as uow:
            item = await uow.waitlist.offer(offer_id, for_update=True)
            if item is None or item.offer.client_id != principal.user_id:
                raise NotFound("No such offer.")
            ensure_offer_open(item.offer, now=self._clock.now())
            if item.claimed_appointment_id is not None:
                raise NotFound("No such offer.")
            # The ordinary booking path: the database decides between clients claiming at once.
            appointment = await self._scheduling.book_in(
                uow,
                principal,
                BookingRequest(
                    therapist_id=item.therapist_id,
                    start=item.offer.start,
                    duration_minutes=item.offer.duration_minutes,
                    modality=item.offer.modality,
                ),
            )
            await uow.waitlist.mark_claimed(item.id, appointment.id)
            await uow.waitlist.remove_entry(item.offer.entry_id, self._clock.now())
            await uow.commit()
        return appointment
