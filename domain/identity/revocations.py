"""Login sessions revoked lately, held in each API process's memory, so that their access tokens stop working at
once rather than when they expire (ADR 20).

An access token names its login session, and a revoked session is never issued another one: a session's id
needs keeping only until the last token issued for it has expired, `keep` after its revocation. The set so holds
the revocations of the last few minutes, and checking a request costs a dictionary lookup, never a query.

Each process fills it from the database at start-up (and again after its bus lost events), adds what it revokes
itself right after the commit, and re-reads a user's revocations when the `session_end` bell rings for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from domain.identity.ports import SessionRepository
from domain.shared.errors import AuthenticationFailed
from domain.shared.ports import Clock, UnitOfWork
from domain.shared.principal import Principal


class RevocationUnitOfWork(UnitOfWork, Protocol):
    sessions: SessionRepository


class RevokedSessions:
    def __init__(self, uow: Callable[[], RevocationUnitOfWork], clock: Clock, keep: timedelta) -> None:
        """`keep`: at least the longest life of an access token, with room for the clocks of other processes."""
        self._uow = uow
        self._clock = clock
        self._keep = keep
        self._until: dict[uuid.UUID, datetime] = {}
        self._next_sweep = clock.now()

    def __len__(self) -> int:
        return len(self._until)

    def add(self, session_id: uuid.UUID, revoked_at: datetime) -> None:
        now = self._clock.now()
        if now >= self._next_sweep:
            # At most once per `keep`: the set never holds more than the revocations of twice that.
            self._until = {sid: until for sid, until in self._until.items() if until > now}
            self._next_sweep = now + self._keep
        until = revoked_at + self._keep
        if until > now:
            self._until[session_id] = max(until, self._until.get(session_id, until))

    def is_revoked(self, session_id: uuid.UUID | None) -> bool:
        until = self._until.get(session_id) if session_id is not None else None
        return until is not None and self._clock.now() < until

    def check(self, principal: Principal) -> None:
        """Raises AuthenticationFailed `session_revoked` when the token's login session has been revoked."""
        if self.is_revoked(principal.session_id):
            raise AuthenticationFailed("The session has ended; please log in again.", code="session_revoked")

    async def load(self, user_id: uuid.UUID | None = None) -> None:
        """Add the sessions revoked within `keep` (only `user_id`'s when given) from the database."""
        async with self._uow() as uow:
            revoked = await uow.sessions.revoked_since(self._clock.now() - self._keep, user_id=user_id)
        for session_id, revoked_at in revoked:
            self.add(session_id, revoked_at)
