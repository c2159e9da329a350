"""Short single-use tickets that let a WebSocket authenticate (browsers cannot set headers on it)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from domain.shared.ports import Clock, UnitOfWork
from domain.shared.principal import Principal

TICKET_LIFETIME = timedelta(seconds=30)


class TicketRepository(Protocol):
    async def add(self, ticket_hash: str, principal: Principal, expires_at: datetime) -> None: ...

    async def redeem(self, ticket_hash: str, now: datetime) -> Principal | None:
        """The ticket's principal if it is unused and unexpired, marking it used in the same statement."""


class TicketUnitOfWork(UnitOfWork, Protocol):
    tickets: TicketRepository


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketService:
    def __init__(self, uow: Callable[[], TicketUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def issue(self, principal: Principal) -> tuple[str, int]:
        ticket = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            await uow.tickets.add(_hash(ticket), principal, self._clock.now() + TICKET_LIFETIME)
            await uow.commit()
        return ticket, int(TICKET_LIFETIME.total_seconds())

    async def redeem(self, ticket: str) -> Principal | None:
        if not ticket or len(ticket) > 100:
            return None
        async with self._uow() as uow:
            principal = await uow.tickets.redeem(_hash(ticket), self._clock.now())
            await uow.commit()
        return principal
