"""Call signaling over the shared WebSocket: joining a session, relaying SDP and ICE to the other participant
(through the database and the bus, so any process reaches them), mode and path changes, and relay offers.
SDP and candidates are never logged."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import structlog
from pydantic import BaseModel

from api.schemas.sessions import (
    CallAnswerFrame,
    CallClientFrame,
    CallOfferFrame,
    IceCandidateFrame,
    ModeChangeFrame,
    PathChangeFrame,
    PeerAnswerFrame,
    PeerIceCandidateFrame,
    PeerOfferFrame,
    PeerRenegotiateFrame,
    RelayAnswerFrame,
    RelayOfferFrame,
    RenegotiateFrame,
    SessionJoinedFrame,
    SessionJoinFrame,
    SessionLeaveFrame,
    SessionOut,
    SessionUpdateFrame,
)
from domain.scheduling.model import Modality
from domain.sessions.model import MediaPath
from domain.sessions.service import SessionService, Signal
from domain.shared.errors import DomainError

log = structlog.get_logger("hearth.ws.calls")


class CallState:
    """Per socket: the sessions it joined, with the last signal seq delivered for each."""

    def __init__(self) -> None:
        self.cursors: dict[uuid.UUID, int] = {}
        self.joins: dict[uuid.UUID, uuid.UUID] = {}  # appointment -> this socket's join (see leave_all)


async def handle(sessions: SessionService, connection: Any, frame: CallClientFrame) -> None:
    principal = connection.principal
    appointment_id = frame.appointment_id
    if isinstance(frame, SessionJoinFrame):
        joined = await sessions.join(principal, appointment_id)
        connection.calls.cursors[appointment_id] = joined.signal_cursor
        connection.calls.joins[appointment_id] = joined.join_id
        await connection.send(
            SessionJoinedFrame(
                appointment_id=appointment_id, polite=joined.view.polite, session=SessionOut.of(joined.view)
            )
        )
        await pull(sessions, connection, appointment_id)  # anything rung before the cursor was set
    elif isinstance(frame, SessionLeaveFrame):
        connection.calls.cursors.pop(appointment_id, None)
        connection.calls.joins.pop(appointment_id, None)
        await sessions.leave(principal, appointment_id)
    elif isinstance(frame, CallOfferFrame):
        await sessions.signal(principal, appointment_id, "offer", {"sdp": frame.sdp})
    elif isinstance(frame, CallAnswerFrame):
        await sessions.signal(principal, appointment_id, "answer", {"sdp": frame.sdp})
    elif isinstance(frame, IceCandidateFrame):
        payload = {"candidate": frame.candidate, "sdp_mid": frame.sdp_mid, "sdp_mline_index": frame.sdp_mline_index}
        await sessions.signal(principal, appointment_id, "candidate", payload)
    elif isinstance(frame, RenegotiateFrame):
        await sessions.signal(principal, appointment_id, "renegotiate", {"reason": "requested"})
    elif isinstance(frame, ModeChangeFrame):
        await sessions.change_modality(principal, appointment_id, Modality(frame.modality))
    elif isinstance(frame, PathChangeFrame):
        await sessions.set_media_path(principal, appointment_id, MediaPath(frame.media_path))
    elif isinstance(frame, RelayOfferFrame):
        answer = await sessions.relay_offer(principal, appointment_id, frame.sdp)
        await connection.send(
            RelayAnswerFrame(
                appointment_id=appointment_id,
                sdp=answer.sdp,
                streams={mid: uuid.UUID(source) for mid, source in answer.streams.items()},
            )
        )


def _frame(signal: Signal) -> BaseModel:
    a, sender, seq = signal.appointment_id, signal.sender_id, signal.seq
    payload = signal.payload
    if signal.kind == "offer":
        return PeerOfferFrame(appointment_id=a, from_user_id=sender, seq=seq, sdp=payload["sdp"])
    if signal.kind == "answer":
        return PeerAnswerFrame(appointment_id=a, from_user_id=sender, seq=seq, sdp=payload["sdp"])
    if signal.kind == "candidate":
        return PeerIceCandidateFrame(
            appointment_id=a,
            from_user_id=sender,
            seq=seq,
            candidate=payload["candidate"],
            sdp_mid=payload.get("sdp_mid"),
            sdp_mline_index=payload.get("sdp_mline_index"),
        )
    return PeerRenegotiateFrame(
        appointment_id=a, from_user_id=sender, seq=seq, reason=str(payload.get("reason", "requested"))
    )


async def pull(sessions: SessionService, connection: Any, appointment_id: uuid.UUID) -> None:
    """Send the socket every signal for it after its cursor, in seq order, once."""
    async with connection.lock:
        while True:
            after = connection.calls.cursors.get(appointment_id)
            if after is None:
                return
            try:
                page = await sessions.signals(connection.principal, appointment_id, after)
            except DomainError:
                connection.calls.cursors.pop(appointment_id, None)
                return
            for signal in page:
                await connection.send(_frame(signal))
                connection.calls.cursors[appointment_id] = signal.seq
            if len(page) < 200:
                return


async def push_update(sessions: SessionService, connection: Any, appointment_id: uuid.UUID) -> None:
    try:
        view = await sessions.view(connection.principal, appointment_id)
    except DomainError:
        return
    with contextlib.suppress(Exception):
        await connection.send(SessionUpdateFrame(appointment_id=appointment_id, session=SessionOut.of(view)))


async def leave_all(sessions: SessionService, connection: Any) -> None:
    """A closed socket leaves the sessions it was in (attendance stops counting), unless the user joined again
    since from another socket."""
    for appointment_id in list(connection.calls.cursors):
        connection.calls.cursors.pop(appointment_id, None)
        join_id = connection.calls.joins.pop(appointment_id, None)
        try:
            await sessions.leave(connection.principal, appointment_id, join_id=join_id)
        except Exception as exc:
            log.info("ws.leave_failed", error_type=type(exc).__name__)
