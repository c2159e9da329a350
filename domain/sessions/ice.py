"""ICE servers for a participant: STUN as configured, TURN with time-limited credentials in coturn's REST
format (`use-auth-secret`): username `<expiry unix time>:<user>`, credential base64(HMAC-SHA1(secret, username))."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class IceConfig:
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl: timedelta = timedelta(hours=1)


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(config: IceConfig, user: str, now: datetime) -> tuple[list[IceServer], datetime | None]:
    """The servers and, when TURN is configured, when its credentials expire."""
    servers: list[IceServer] = []
    if config.stun_urls:
        servers.append(IceServer(urls=config.stun_urls))
    expires: datetime | None = None
    if config.turn_urls and config.turn_secret:
        expires = now + config.turn_ttl
        username = f"{int(expires.timestamp())}:{user}"
        servers.append(IceServer(config.turn_urls, username, turn_credential(config.turn_secret, username)))
    return servers, expires
