"""What the identity use cases need from the outside world."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.model import Invitation, LoginSession, Practice, RefreshToken, User
from domain.shared.ports import UnitOfWork
from domain.shared.principal import Principal, Role


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """`for_update` serialises sign-ins with the account's removal (ADR 18)."""

    async def by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> None:
        """Raises Conflict(code="email_taken") when the email is already registered."""

    async def update_contact(self, user: User) -> None:
        """Stores display name, time zone and phone."""


class PracticeRepository(Protocol):
    async def add(self, practice: Practice) -> None: ...

    async def get(self, practice_id: uuid.UUID, *, for_update: bool = False) -> Practice | None:
        """`for_update` serialises changes to the practice's staff (invitations) without blocking its other writes."""

    async def group_named(self, name: str, *, for_update: bool = False) -> Practice | None:
        """The group practice of this exact name (names of group practices are unique)."""

    async def client_practice(self, client_id: uuid.UUID) -> uuid.UUID | None:
        """The practice of the client's current care relationship, if any."""

    async def has_admin(self, practice_id: uuid.UUID) -> bool:
        """Whether a practice admin belongs to the practice."""


class InvitationRepository(Protocol):
    async def add(self, invitation: Invitation) -> None: ...

    async def get(self, invitation_id: uuid.UUID, *, for_update: bool = False) -> Invitation | None: ...

    async def by_token_hash(self, token_hash: str, *, for_update: bool = False) -> Invitation | None: ...

    async def save(self, invitation: Invitation) -> None:
        """Stores acceptance (accepted_at, user_id) and revocation (revoked_at)."""

    async def revoke_open(self, practice_id: uuid.UUID, email: str, now: datetime) -> list[uuid.UUID]:
        """Revoke the practice's invitations of `email` that are neither accepted nor revoked; their ids."""

    async def open_page(
        self, practice_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Invitation]:
        """The practice's invitations neither accepted nor revoked (expired ones included), newest first, after
        the (created_at, id) of the previous page's last one."""


class StaffRepository(Protocol):
    """A group practice's staff as its admins see it (ADR 18)."""

    async def page(self, practice_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[User]:
        """The practice's therapists and admins, deactivated ones included, oldest account first, after the
        (created_at, id) of the previous page's last one."""

    async def active_admins(self, practice_id: uuid.UUID) -> int: ...

    async def deactivate(self, user_id: uuid.UUID, at: datetime, by: uuid.UUID) -> None: ...

    async def reactivate(self, user_id: uuid.UUID) -> None:
        """Clears the removal (when and by whom): the audit trail keeps both."""

    async def set_role(self, user_id: uuid.UUID, role: Role) -> None: ...

    async def has_client_records(self, therapist_id: uuid.UUID) -> bool:
        """Whether the therapist ever had a client: a care relationship or an appointment, ended ones included."""

    async def upcoming_appointments(self, therapist_id: uuid.UUID, now: datetime) -> int:
        """The therapist's sessions that have not ended and are still to be held (booked, checked in, under way)."""


class SessionRepository(Protocol):
    async def add_session(self, session: LoginSession) -> None: ...

    async def get_session(self, session_id: uuid.UUID, *, for_update: bool = False) -> LoginSession | None: ...

    async def save_session(self, session: LoginSession) -> None: ...

    async def revoke_all(self, user_id: uuid.UUID, now: datetime, reason: str) -> list[uuid.UUID]:
        """Revoke every live login session (refresh-token family) of the user; their ids."""

    async def revoked_since(
        self, since: datetime, *, user_id: uuid.UUID | None = None
    ) -> list[tuple[uuid.UUID, datetime]]:
        """(id, revoked_at) of the login sessions revoked at `since` or later, only `user_id`'s when given."""

    async def add_token(self, token: RefreshToken) -> None: ...

    async def token_by_hash(self, token_hash: str, *, for_update: bool = False) -> RefreshToken | None: ...

    async def mark_used(self, token: RefreshToken) -> None: ...


@dataclass(slots=True)
class ThrottleState:
    key: str
    failures: int
    window_started_at: datetime
    blocked_until: datetime | None


class ThrottleRepository(Protocol):
    async def get(self, key: str, *, for_update: bool = False) -> ThrottleState | None: ...

    async def save(self, state: ThrottleState) -> None: ...

    async def clear(self, key: str) -> None: ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    practices: PracticeRepository
    sessions: SessionRepository
    throttle: ThrottleRepository
    audit: AuditLog


class InvitationUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    practices: PracticeRepository
    invitations: InvitationRepository
    audit: AuditLog


class PasswordHasher(Protocol):
    """Slow by design: implementations must keep the event loop free."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires_in: int


class AccessTokens(Protocol):
    def issue(self, user: User, practice_id: uuid.UUID | None, session_id: uuid.UUID) -> IssuedAccessToken: ...

    def verify(self, token: str) -> Principal:
        """Raises AuthenticationFailed for any token that is not a valid access token."""
