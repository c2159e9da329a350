"""Calendar feeds: a secret, revocable token per user that reads their appointments as iCalendar."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.scheduling.model import Appointment
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.shared.errors import NotFound
from domain.shared.ports import Clock
from domain.shared.principal import Principal

# Past sessions stay in the feed this long, so calendars keep recent history.
FEED_HISTORY = timedelta(days=90)


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Feed:
    user_id: uuid.UUID
    appointments: list[Appointment]


class CalendarService:
    def __init__(self, uow: Callable[[], SchedulingUnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def new_feed(self, principal: Principal) -> str:
        """A new token; any earlier token of the user stops working."""
        token = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            await uow.calendar_feeds.replace(principal.user_id, feed_token_hash(token), self._clock.now())
            await uow.commit()
        return token

    async def revoke(self, principal: Principal) -> None:
        async with self._uow() as uow:
            await uow.calendar_feeds.revoke_all(principal.user_id, self._clock.now())
            await uow.commit()

    async def feed(self, token: str) -> Feed:
        async with self._uow() as uow:
            user_id = await uow.calendar_feeds.user_for(feed_token_hash(token))
            if user_id is None:
                raise NotFound("No such calendar.")
            since = self._clock.now() - FEED_HISTORY
            return Feed(user_id, await uow.appointments.changed_for_user(user_id, since))
