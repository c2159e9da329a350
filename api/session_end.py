"""Telling every API process that login sessions of a user ended, so that they refuse the sessions' access tokens
and close their live sockets at once."""

from __future__ import annotations

import logging
import uuid

from fastapi import Request

from domain.messaging.bus import BusEvent

log = logging.getLogger("hearth.auth")


async def ring_session_end(request: Request, user_id: uuid.UUID) -> None:
    """Tell every process that a login session of `user_id` ended. The session is revoked already (and refused by
    this process): a bus that cannot ring must not fail the request (each socket's own check closes it within
    SESSION_CHECK_SECONDS; another process then takes the session's access tokens until they expire, unless its
    bus reconnects or it restarts in the meantime: both re-read the revocations from the database)."""
    try:
        await request.app.state.container.bus.publish(BusEvent("session_end", user_id=user_id))
    except Exception:
        log.warning("bus publish of session_end failed", exc_info=True)
