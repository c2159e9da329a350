"""A group practice's staff: its admins list the members and remove (deactivate) those who leave (ADR 18).

A removed account stays, with everything the practice recorded under it; it can no longer sign in, and every
login session it had ends at once. A therapist's booked sessions must be reassigned or cancelled first; their
clients' care ends and those with no therapist left wait in the practice's queue again; their waitlist closes
(each waiting client is told by email).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import event_by
from domain.identity.invitations import require_admin_of
from domain.identity.model import PracticeKind, User
from domain.identity.ports import SessionRepository, StaffRepository, UserRepository
from domain.identity.revocations import RevokedSessions
from domain.matching.ports import MatchingUnitOfWork
from domain.matching.service import HandedBack, MatchingService
from domain.scheduling.waitlist import WaitlistEntry
from domain.scheduling.waitlist_service import WaitlistService
from domain.shared.errors import Conflict, NotFound
from domain.shared.ports import Clock
from domain.shared.principal import Principal, Role


class StaffUnitOfWork(MatchingUnitOfWork, Protocol):
    users: UserRepository
    sessions: SessionRepository
    staff: StaffRepository


@dataclass(frozen=True, slots=True)
class Removal:
    member: User
    care_ended: int  # care relationships of the therapist that ended
    clients_queued: int  # of their clients, those put back in the practice's queue
    sessions_revoked: int  # login sessions (refresh-token families) ended
    waitlist_entries_closed: int = 0  # clients waiting for the therapist's time, closed and told by email


class StaffService:
    def __init__(
        self,
        uow: Callable[[], StaffUnitOfWork],
        matching: MatchingService,
        waitlist: WaitlistService,
        clock: Clock,
        revoked: RevokedSessions,
    ) -> None:
        self._uow = uow
        self._matching = matching
        self._waitlist = waitlist
        self._clock = clock
        self._revoked = revoked

    async def members(
        self,
        principal: Principal,
        practice_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 50,
    ) -> list[User]:
        require_admin_of(principal, practice_id)
        async with self._uow() as uow:
            return await uow.staff.page(practice_id, after=after, limit=limit)

    async def deactivate(self, principal: Principal, practice_id: uuid.UUID, user_id: uuid.UUID) -> Removal:
        """Remove a member from the group practice. Again for a removed one changes nothing. Raises Conflict
        `last_admin` (the practice would have no admin left) and `has_upcoming_appointments` (with the count in
        `extensions`); NotFound for anyone who is not staff of this practice."""
        require_admin_of(principal, practice_id)
        now = self._clock.now()
        async with self._uow() as uow:
            # The practice's lock serialises staff changes: two admins removing each other cannot leave none.
            practice = await uow.practices.get(practice_id, for_update=True)
            if practice is None or practice.kind is not PracticeKind.GROUP:
                raise NotFound("No such practice.")
            # The account's lock first: a sign-in waiting on it sees the removal (IdentityService.login).
            member = await uow.users.get(user_id, for_update=True)
            if member is None or member.practice_id != practice_id or member.role is Role.CLIENT:
                raise NotFound("No such member.")
            if not member.active:
                return Removal(member, 0, 0, 0)
            if member.role is Role.PRACTICE_ADMIN and await uow.staff.active_admins(practice_id) <= 1:
                raise Conflict(
                    "This is the practice's last admin: invite another admin before removing this one.",
                    code="last_admin",
                )
            handed = HandedBack(0, 0)
            closed: list[WaitlistEntry] = []
            if member.role is Role.THERAPIST:
                await uow.appointments.lock_therapist(member.id)  # no booking slips in after the count
                upcoming = await uow.staff.upcoming_appointments(member.id, now)
                if upcoming:
                    raise Conflict(
                        f"This therapist has {upcoming} upcoming session{'s' if upcoming != 1 else ''}: "
                        "reschedule them with another therapist or cancel them first.",
                        code="has_upcoming_appointments",
                        extensions={"upcoming_appointments": upcoming},
                    )
                handed = await self._matching.hand_back(uow, principal, member.id, practice_id)
                closed = await self._waitlist.close_for_therapist_in(uow, member.id, now)
            member.deactivated_at = now
            await uow.staff.deactivate(member.id, now, principal.user_id)
            revoked = await uow.sessions.revoke_all(member.id, now, "deactivated")
            await uow.calendar_feeds.revoke_all(member.id, now)  # the feed's address is a credential too
            await uow.audit.append(event_by(principal, "user.deactivate", "user", member.id, now))
            await uow.commit()
        for session_id in revoked:  # refused here at once; the caller's bell tells the other processes
            self._revoked.add(session_id, now)
        return Removal(member, handed.ended, handed.queued, len(revoked), len(closed))
