"""What the identity use cases need from the outside world."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.audit.events import AuditLog
from domain.identity.model import LoginSession, Practice, RefreshToken, User
from domain.shared.ports import UnitOfWork
from domain.shared.principal import Principal


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> None:
        """Raises Conflict(code="email_taken") when the email is already registered."""

    async def update_contact(self, user: User) -> None:
        """Stores display name, time zone and phone."""


class PracticeRepository(Protocol):
    async def add(self, practice: Practice) -> None: ...

    async def get(self, practice_id: uuid.UUID) -> Practice | None: ...

    async def client_practice(self, client_id: uuid.UUID) -> uuid.UUID | None:
        """The practice of the client's current care relationship, if any."""


class SessionRepository(Protocol):
    async def add_session(self, session: LoginSession) -> None: ...

    async def get_session(self, session_id: uuid.UUID, *, for_update: bool = False) -> LoginSession | None: ...

    async def save_session(self, session: LoginSession) -> None: ...

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
