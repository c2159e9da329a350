"""`/api/v1/ws?ticket=…`: one socket per device carries every conversation of its user. No database session
lives across the socket: each frame is its own unit of work."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, get_args
from urllib.parse import urlsplit

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import Field, TypeAdapter, ValidationError

from api.schemas.messaging import (
    AckFrame,
    ClientFrame,
    ErrorFrame,
    PingFrame,
    PongFrame,
    ReadFrame,
    ResumeFrame,
    SendFrame,
    TypingFrame,
)
from api.schemas.sessions import (
    CallAnswerFrame,
    CallOfferFrame,
    IceCandidateFrame,
    ModeChangeFrame,
    PathChangeFrame,
    RelayOfferFrame,
    RenegotiateFrame,
    SessionJoinFrame,
    SessionLeaveFrame,
)
from api.ws import calls
from api.ws.hub import Connection, Hub
from domain.messaging.model import MAX_CLIENT_MESSAGE_ID
from domain.shared.errors import DomainError

router = APIRouter()
log = structlog.get_logger("hearth.ws")
# Dispatched on `type` rather than tried member by member: 3 us a frame instead of 20.
_frames: TypeAdapter[ClientFrame] = TypeAdapter(Annotated[ClientFrame, Field(discriminator="type")])

SESSION_CHECK_SECONDS = 15.0
_CALL_FRAMES = (
    SessionJoinFrame,
    SessionLeaveFrame,
    CallOfferFrame,
    CallAnswerFrame,
    IceCandidateFrame,
    RenegotiateFrame,
    ModeChangeFrame,
    PathChangeFrame,
    RelayOfferFrame,
)


def _origin_allowed(socket: WebSocket) -> bool:
    """Browsers always send Origin: it must be ours (or configured). Native apps send none."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    settings = socket.app.state.container.settings
    allowed = {_origin(settings.public_url), *(_origin(o) for o in settings.cors_origins)}
    host = socket.headers.get("host")
    if host:
        allowed.update({f"http://{host}", f"https://{host}"})
    return _origin(origin) in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@router.websocket("/api/v1/ws")
async def websocket(socket: WebSocket, ticket: str = "") -> None:
    container = socket.app.state.container
    hub: Hub = container.hub
    if not _origin_allowed(socket):
        await socket.close(code=4403, reason="origin not allowed")
        return
    principal = await container.tickets.redeem(ticket)
    await socket.accept()
    if principal is None:
        # Accepted first so the client sees why: 4401 means "get a new ticket", not a network failure.
        await socket.close(code=4401, reason="invalid or used ticket")
        return
    if container.revoked_sessions.is_revoked(principal.session_id):
        # A ticket outlives the sign-out its session got since (ADR 20): refused here, before any frame is read,
        # not when the socket's own database check comes around.
        await socket.close(code=4401, reason="session ended")
        return
    connection = Connection(socket, principal)
    hub.add(connection)
    watchdog = asyncio.create_task(_watch_session(hub, connection))
    try:
        await hub.go_live(connection)
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if not hub.allow(principal):
                # Read although refused, to say which frame this is: the client then sends again only what was
                # refused. Reading costs what it costs for any frame; handling one is what the limit saves.
                wait = hub.retry_after(principal)
                refused = _read(raw) or _invalid(raw)
                await connection.send(_error(refused, "rate_limited", "Too many frames; slow down.", wait))
                continue
            if raw is None:
                await connection.send(ErrorFrame(code="invalid_frame", detail="Frames are JSON text, not binary."))
                continue
            await _handle(hub, connection, raw)
    except WebSocketDisconnect:
        pass
    finally:
        watchdog.cancel()
        hub.remove(connection)


def _read(raw: str | None) -> ClientFrame | None:
    """The frame, or None if it is not one this API accepts."""
    if raw is None:
        return None
    try:
        return _frames.validate_python(json.loads(raw))
    except (ValueError, ValidationError, RecursionError):  # RecursionError: JSON nested deeper than Python goes
        return None


@dataclass(frozen=True, slots=True)
class _Invalid:
    """What a frame this API does not accept says it is, to name it in its refusal like a valid frame."""

    type: str
    conversation_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    client_message_id: str | None


_CLIENT_FRAME_TYPES = frozenset(get_args(m.model_fields["type"].annotation)[0] for m in get_args(ClientFrame))


def _invalid(raw: str | None) -> _Invalid | None:
    """An invalid frame's type (one this API has) and the ids it carries where they are well-formed; None when it
    does not say which frame it is. A refused `send` is then named by its client_message_id, as any refusal is."""
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if not isinstance(kind, str) or kind not in _CLIENT_FRAME_TYPES:
        return None
    cmid = doc.get("client_message_id")
    return _Invalid(
        type=kind,
        conversation_id=_uuid_or_none(doc.get("conversation_id")),
        appointment_id=_uuid_or_none(doc.get("appointment_id")),
        client_message_id=cmid if isinstance(cmid, str) and 0 < len(cmid) <= MAX_CLIENT_MESSAGE_ID else None,
    )


def _uuid_or_none(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _error(
    frame: ClientFrame | _Invalid | None, code: str, detail: str, retry_after: float | None = None
) -> ErrorFrame:
    """An error naming the frame it refuses, the same way for every refusal, so a client can match any of them."""
    if frame is None:
        return ErrorFrame(code=code, detail=detail, retry_after=retry_after)
    conversation_id: uuid.UUID | None = getattr(frame, "conversation_id", None)
    about: uuid.UUID | None = conversation_id or getattr(frame, "appointment_id", None)
    return ErrorFrame(
        code=code,
        detail=detail,
        ref=getattr(frame, "client_message_id", None) or (str(about) if about else None),
        frame_type=frame.type,
        conversation_id=conversation_id,
        retry_after=retry_after,
    )


async def _handle(hub: Hub, connection: Connection, raw: str) -> None:
    container = connection.socket.app.state.container
    frame = _read(raw)
    if frame is None:
        await connection.send(_error(_invalid(raw), "invalid_frame", "The frame is not one this API accepts."))
        return
    try:
        if isinstance(frame, SendFrame):
            # The ack carries the stored message to this socket, so the live push skips it here (the user's other
            # sockets get the `message` frame). A message this socket pulls from the database comes as usual.
            mine = (frame.conversation_id, frame.client_message_id)
            connection.sending.add(mine)
            try:
                sent = await container.messaging.send(
                    connection.principal, frame.conversation_id, frame.client_message_id, frame.body
                )
            except BaseException:
                connection.sending.discard(mine)
                raise
            if not sent.created:
                connection.sending.discard(mine)
            # Acknowledged only now, after the commit: an acked message is never lost.
            await connection.send(
                AckFrame(
                    conversation_id=frame.conversation_id,
                    client_message_id=frame.client_message_id,
                    message_id=sent.message.id,
                    seq=sent.message.seq,
                    created_at=sent.message.created_at,
                    duplicate=not sent.created,
                )
            )
        elif isinstance(frame, ResumeFrame):
            await hub.resume(connection, frame.conversation_id, frame.after_seq)
        elif isinstance(frame, TypingFrame):
            await container.messaging.typing(connection.principal, frame.conversation_id)
        elif isinstance(frame, ReadFrame):
            await container.messaging.mark_read(connection.principal, frame.conversation_id, frame.seq)
        elif isinstance(frame, PingFrame):
            await connection.send(PongFrame())
        elif isinstance(frame, _CALL_FRAMES):
            await calls.handle(container.sessions, connection, frame)
    except DomainError as error:
        await connection.send(_error(frame, error.code, error.detail or "Refused."))


async def _watch_session(hub: Hub, connection: Connection) -> None:
    """Closes the socket with 4401 once its login session is revoked or past its absolute limit. A check that
    fails (the database restarting) is tried again at the next tick: the watch must outlive an outage."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            try:
                if not await hub.check_session(connection):
                    return
            except Exception as exc:
                log.warning("ws.session_check_failed", error_type=type(exc).__name__)
            await asyncio.sleep(SESSION_CHECK_SECONDS)
