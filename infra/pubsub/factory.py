"""Settings -> MessageBus adapter (called once by the composition root)."""

from __future__ import annotations

from domain.messaging.bus import MessageBus
from infra.pubsub.core import GapHandler
from infra.pubsub.memory import InMemoryBus
from infra.pubsub.postgres import PostgresBus
from infra.pubsub.redis import RedisBus
from infra.settings import Settings

__all__ = ["bus_from_settings"]


def bus_from_settings(
    settings: Settings, *, database_url: str | None = None, on_gap: GapHandler | None = None
) -> MessageBus:
    """The bus `HEARTH_BUS` names. `database_url` overrides `settings.database_url` (the embedded server's URL
    when DATABASE_URL is unset); `on_gap` runs after a listener reconnected (re-read from the database: events
    sent while it was away are lost). The PostgreSQL bus also offers `publish_in` (NOTIFY on commit)."""
    if settings.bus == "memory":
        return InMemoryBus(on_gap=on_gap)
    if settings.bus == "redis":
        return RedisBus(settings.redis_url, channel=settings.bus_channel, on_gap=on_gap)
    url = database_url or settings.database_url
    if url is None:
        raise RuntimeError("HEARTH_BUS=postgres needs DATABASE_URL")
    return PostgresBus(url, channel=settings.bus_channel, on_gap=on_gap)
