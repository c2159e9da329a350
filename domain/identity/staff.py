"""A group practice's staff: its admins list the members, remove (deactivate) those who leave (ADR 18), bring
removed ones back and change a member's role (ADR 21).

A removed account stays, with everything the practice recorded under it; it can no longer sign in, and every
login session it had ends at once. A therapist's booked sessions must be reassigned or cancelled first; their
clients' care ends and those with no therapist left wait in the practice's queue again; their waitlist closes
(each waiting client is told by email). Bringing a member back restores the sign-in, not what the removal ended.

An account has one role. Access tokens carry it, so a role change ends the member's login sessions (their tokens
are refused at once, ADR 20): the new role holds from their next sign-in. A therapist who has had clients keeps
that role: their records need a therapist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import event_by
from domain.identity.invitations import require_admin_of
from domain.identity.model import INVITABLE_ROLES, PracticeKind, User
from domain.identity.ports import SessionRepository, StaffRepository, UserRepository
from domain.identity.revocations import RevokedSessions
from domain.matching.ports import MatchingUnitOfWork
from domain.matching.service import HandedBack, MatchingService
from domain.scheduling.waitlist import WaitlistEntry
from domain.scheduling.waitlist_service import WaitlistService
from domain.shared.errors import Conflict, NotFound, ValidationFailed
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


@dataclass(frozen=True, slots=True)
class RoleChange:
    member: User
    sessions_revoked: int  # login sessions ended: their tokens carry the old role
    waitlist_entries_closed: int = 0  # a therapist made an admin can no longer be booked: their waitlist closes


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
            member = await self._locked_member(uow, practice_id, user_id)
            if not member.active:
                return Removal(member, 0, 0, 0)
            if member.role is Role.PRACTICE_ADMIN:
                await _not_the_last_admin(uow, practice_id, "removing this one")
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

    async def reactivate(self, principal: Principal, practice_id: uuid.UUID, user_id: uuid.UUID) -> User:
        """Bring a removed member back: they can sign in again (their old sessions stay ended) and a therapist can
        be found, matched and booked again. Care relationships and waitlist entries the removal ended stay ended.
        Again for an active member changes nothing. NotFound for anyone who is not staff of this practice."""
        require_admin_of(principal, practice_id)
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._locked_member(uow, practice_id, user_id)
            if member.active:
                return member
            member.deactivated_at = None
            await uow.staff.reactivate(member.id)
            await uow.audit.append(event_by(principal, "user.reactivate", "user", member.id, now))
            await uow.commit()
        return member

    async def change_role(
        self, principal: Principal, practice_id: uuid.UUID, user_id: uuid.UUID, role: Role
    ) -> RoleChange:
        """Make a member a therapist or a practice admin; their login sessions end (their tokens carry the old
        role). The role they have already changes nothing. Raises Conflict `member_deactivated` (bring them back
        first), `last_admin` (the practice would have no admin left) and `has_client_records` (a therapist who has
        had clients or sessions: their notes, plans and invoices need a therapist); NotFound for anyone who is not
        staff of this practice."""
        if role not in INVITABLE_ROLES:
            raise ValidationFailed("A member is a therapist or a practice admin.", field="role")
        require_admin_of(principal, practice_id)
        now = self._clock.now()
        async with self._uow() as uow:
            member = await self._locked_member(uow, practice_id, user_id)
            if member.role is role:
                return RoleChange(member, 0)
            if not member.active:
                raise Conflict(
                    "This member was removed from the practice: bring them back before changing their role.",
                    code="member_deactivated",
                )
            closed: list[WaitlistEntry] = []
            if member.role is Role.PRACTICE_ADMIN:
                await _not_the_last_admin(uow, practice_id, "making this one a therapist")
            else:
                # Under the booking lock, which booking and matching take before they start anything with the
                # therapist and under which they re-read them: no session or care can slip in after the check.
                await uow.appointments.lock_therapist(member.id)
                if await uow.staff.has_client_records(member.id):
                    raise Conflict(
                        "This therapist has had clients or sessions: their notes, plans and invoices need a "
                        "therapist's account, so it stays one. Invite the person as an admin with another email "
                        "address instead.",
                        code="has_client_records",
                    )
                closed = await self._waitlist.close_for_therapist_in(uow, member.id, now)
            member.role = role
            await uow.staff.set_role(member.id, role)
            revoked = await uow.sessions.revoke_all(member.id, now, "role_changed")
            await uow.audit.append(event_by(principal, f"user.role_change.{role.value}", "user", member.id, now))
            await uow.commit()
        for session_id in revoked:  # their tokens carry the old role: refused here at once, elsewhere on the bell
            self._revoked.add(session_id, now)
        return RoleChange(member, len(revoked), len(closed))

    @staticmethod
    async def _locked_member(uow: StaffUnitOfWork, practice_id: uuid.UUID, user_id: uuid.UUID) -> User:
        """The practice's member, under the practice's lock and then their own: every staff change takes both."""
        # The practice's lock serialises staff changes: two admins removing each other cannot leave none.
        practice = await uow.practices.get(practice_id, for_update=True)
        if practice is None or practice.kind is not PracticeKind.GROUP:
            raise NotFound("No such practice.")
        # Then the account's: a sign-in waiting on it sees the change (IdentityService.login), and a session it made
        # before is one the change ends.
        member = await uow.users.get(user_id, for_update=True)
        if member is None or member.practice_id != practice_id or member.role is Role.CLIENT:
            raise NotFound("No such member.")
        return member


async def _not_the_last_admin(uow: StaffUnitOfWork, practice_id: uuid.UUID, doing: str) -> None:
    if await uow.staff.active_admins(practice_id) <= 1:
        raise Conflict(
            f"This is the practice's last admin: invite another admin before {doing}.",
            code="last_admin",
        )
