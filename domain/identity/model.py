"""Users, practices (tenants) and login sessions (refresh-token families)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.principal import Role


class PracticeKind(StrEnum):
    INDEPENDENT = "independent"
    GROUP = "group"


@dataclass(slots=True)
class Practice:
    id: uuid.UUID
    name: str
    kind: PracticeKind
    created_at: datetime


@dataclass(slots=True)
class User:
    id: uuid.UUID
    email: str
    password_hash: str
    role: Role
    display_name: str
    timezone: str
    # Staff belong to one practice. Clients belong to none until a booking or a match
    # starts a care relationship (see docs/adr/0002-tenancy.md).
    practice_id: uuid.UUID | None
    created_at: datetime
    phone: str | None = None  # E.164; SMS reminders go here when set
    # Removed from their group practice by an admin (ADR 18): the account cannot sign in; its records stay.
    deactivated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


class InvitationStatus(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


# Clients never need an invitation: they register on their own and join a practice through care (ADR 2).
INVITABLE_ROLES = frozenset({Role.THERAPIST, Role.PRACTICE_ADMIN})


@dataclass(slots=True)
class Invitation:
    """An offer to create a staff account in a group practice, redeemed once with the token of its link."""

    id: uuid.UUID
    practice_id: uuid.UUID
    email: str  # normalised, as accounts store it
    role: Role
    token_hash: str  # the token itself is only ever in the link (emailed, or shown once to the operator)
    invited_by: uuid.UUID | None  # None: the platform operator, from the command line
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    user_id: uuid.UUID | None = None  # the account created by accepting
    revoked_at: datetime | None = None  # withdrawn by an admin, or replaced by a newer invitation

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


@dataclass(slots=True)
class LoginSession:
    """A refresh-token family: every token rotated from one login shares it."""

    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime  # the last refresh, whoever made it
    absolute_expires_at: datetime
    # The last moment the user is known to have been at the device (login, or activity a refresh declared). The
    # idle limit runs from here, not from the last refresh: a tab left open refreshes on its own (background polls),
    # and that must not keep an unattended session signed in.
    last_active_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def note_activity(self, at: datetime, idle: timedelta) -> None:
        """The user was active at `at`. Activity after a gap of `idle` or more revives nothing: the session had
        idled out before it."""
        if self.last_active_at < at and at - self.last_active_at < idle:
            self.last_active_at = at

    def idle_deadline(self, idle: timedelta) -> datetime:
        return self.last_active_at + idle

    def is_live(self, now: datetime, idle: timedelta) -> bool:
        return self.revoked_at is None and now < self.absolute_expires_at and now < self.idle_deadline(idle)

    def revoke(self, now: datetime, reason: str) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
            self.revoked_reason = reason


@dataclass(slots=True)
class RefreshToken:
    token_hash: str
    session_id: uuid.UUID
    issued_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class SessionPolicies:
    staff: SessionPolicy
    client: SessionPolicy

    def for_role(self, role: Role) -> SessionPolicy:
        return self.client if role is Role.CLIENT else self.staff
