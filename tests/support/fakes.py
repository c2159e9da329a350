"""In-memory adapters for unit tests of domain services (no database, no crypto libraries)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace

from domain.audit.events import AuditEvent
from domain.identity.model import LoginSession, Practice, RefreshToken, User
from domain.identity.ports import IssuedAccessToken, ThrottleState
from domain.shared.errors import AuthenticationFailed, Conflict
from domain.shared.principal import Principal


class Store:
    """What a database would hold; a unit of work copies it and writes back on commit."""

    def __init__(self) -> None:
        self.users: dict[uuid.UUID, User] = {}
        self.practices: dict[uuid.UUID, Practice] = {}
        self.client_practices: dict[uuid.UUID, uuid.UUID] = {}
        self.sessions: dict[uuid.UUID, LoginSession] = {}
        self.tokens: dict[str, RefreshToken] = {}
        self.throttle: dict[str, ThrottleState] = {}
        self.audit: list[AuditEvent] = []


class FakeUnitOfWork:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.committed = False

    async def __aenter__(self):
        self._work = copy.deepcopy(self._store)
        self.users = _Users(self._work)
        self.practices = _Practices(self._work)
        self.sessions = _Sessions(self._work)
        self.throttle = _Throttle(self._work)
        self.audit = _Audit(self._work)
        return self

    async def __aexit__(self, *exc) -> None:
        self._work = None

    async def commit(self) -> None:
        self._store.__dict__.update(copy.deepcopy(self._work.__dict__))
        self.committed = True

    async def rollback(self) -> None:
        self._work = copy.deepcopy(self._store)


class _Users:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def get(self, user_id, *, for_update=False):
        return self.s.users.get(user_id)

    async def by_email(self, email):
        return next((u for u in self.s.users.values() if u.email == email), None)

    async def update_contact(self, user):
        self.s.users[user.id] = user

    async def add(self, user):
        if await self.by_email(user.email):
            raise Conflict("taken", code="email_taken")
        self.s.users[user.id] = user


class _Practices:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, practice):
        self.s.practices[practice.id] = practice

    async def get(self, practice_id):
        return self.s.practices.get(practice_id)

    async def client_practice(self, client_id):
        return self.s.client_practices.get(client_id)


class _Sessions:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add_session(self, session):
        self.s.sessions[session.id] = session

    async def get_session(self, session_id, *, for_update=False):
        return self.s.sessions.get(session_id)

    async def save_session(self, session):
        self.s.sessions[session.id] = replace(session)

    async def revoked_since(self, since, *, user_id=None):
        return [
            (x.id, x.revoked_at)
            for x in self.s.sessions.values()
            if x.revoked_at is not None and x.revoked_at >= since and user_id in (None, x.user_id)
        ]

    async def add_token(self, token):
        self.s.tokens[token.token_hash] = token

    async def token_by_hash(self, token_hash, *, for_update=False):
        return self.s.tokens.get(token_hash)

    async def mark_used(self, token):
        self.s.tokens[token.token_hash] = replace(token)


class _Throttle:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def get(self, key, *, for_update=False):
        return self.s.throttle.get(key)

    async def save(self, state):
        self.s.throttle[state.key] = state

    async def clear(self, key):
        self.s.throttle.pop(key, None)


class _Audit:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def append(self, event):
        self.s.audit.append(event)


class PlainHasher:
    """Reversible on purpose: unit tests exercise the service's rules, not argon2."""

    async def hash(self, password: str) -> str:
        return "plain$" + password

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain$" + password


class FakeTokens:
    def __init__(self) -> None:
        self.issued: dict[str, Principal] = {}

    def issue(self, user: User, practice_id, session_id) -> IssuedAccessToken:
        token = f"access-{len(self.issued)}"
        self.issued[token] = Principal(user.id, user.role, practice_id, session_id)
        return IssuedAccessToken(token, 600)

    def verify(self, token: str) -> Principal:
        if token not in self.issued:
            raise AuthenticationFailed("bad", code="invalid_token")
        return self.issued[token]


class SequentialIds:
    def __init__(self) -> None:
        self.n = 0

    def new(self) -> uuid.UUID:
        self.n += 1
        return uuid.UUID(int=self.n)
