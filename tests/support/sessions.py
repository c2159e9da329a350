"""Fakes of the live-session ports (our own ports, not providers) and helpers to drive a call over the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import websockets

from domain.media.relay import ROOM_LIMIT, RelayAnswer, RoomFull
from domain.scheduling.model import Appointment, Modality
from tests.support.users import LoggedIn

TIMEOUT = 10


class FakeMediaRelay:
    """In memory: rooms of participants; each answer names the other participants as the streams' sources."""

    def __init__(self) -> None:
        self.rooms: dict[str, list[str]] = {}
        self.offers: list[tuple[str, str, str]] = []
        self.closed: list[str] = []

    async def negotiate(self, room_id: str, participant_id: str, offer_sdp: str) -> RelayAnswer:
        room = self.rooms.setdefault(room_id, [])
        if participant_id not in room:
            if len(room) >= ROOM_LIMIT:
                raise RoomFull("The room is full.")
            room.append(participant_id)
        self.offers.append((room_id, participant_id, offer_sdp))
        others = [p for p in room if p != participant_id]
        return RelayAnswer(sdp=f"v=0 answer-for-{participant_id}", streams={str(i): p for i, p in enumerate(others)})

    async def leave(self, room_id: str, participant_id: str) -> None:
        if participant_id in self.rooms.get(room_id, []):
            self.rooms[room_id].remove(participant_id)

    async def close_room(self, room_id: str) -> None:
        self.rooms.pop(room_id, None)
        self.closed.append(room_id)

    async def participants(self, room_id: str) -> list[str]:
        return list(self.rooms.get(room_id, []))


@dataclass
class FakePhoneCalls:
    calls: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = field(default_factory=list)

    async def check_call_for_session(
        self, appointment_id: uuid.UUID, therapist_id: uuid.UUID, client_id: uuid.UUID
    ) -> None:
        return None

    async def call_for_session(self, appointment_id: uuid.UUID, therapist_id: uuid.UUID, client_id: uuid.UUID) -> None:
        self.calls.append((appointment_id, therapist_id, client_id))


@dataclass
class RecordingOutcomes:
    """Records what the live session tells billing, inside its transaction (`SessionOutcomes`)."""

    completed: list[tuple[uuid.UUID, dict[Modality, int], bool | None, datetime]] = field(default_factory=list)
    no_shows: list[tuple[uuid.UUID, datetime]] = field(default_factory=list)
    fail_once: bool = False  # the next call raises (billing failed), as the transaction it runs in then does

    async def completed_in(
        self,
        uow: object,
        appointment: Appointment,
        connected_minutes: Mapping[Modality, int],
        at_home: bool | None,
        ended_at: datetime,
    ) -> None:
        self._maybe_fail()
        self.completed.append((appointment.id, dict(connected_minutes), at_home, ended_at))

    async def no_show_in(self, uow: object, appointment: Appointment, at: datetime) -> None:
        self._maybe_fail()
        self.no_shows.append((appointment.id, at))

    def _maybe_fail(self) -> None:
        if self.fail_once:
            self.fail_once = False
            raise RuntimeError("billing failed")


CHECK_IN = {
    "country": "US",
    "region": "NY",
    "at_home": True,
    "emergency_contact": {"name": "Robin Contact", "phone": "+12125550100"},
    "emergency_contact_updated": False,
    "private": True,
}


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/api/v1/ws"


async def connect(api: httpx.AsyncClient, base: str, user: LoggedIn) -> websockets.ClientConnection:
    ticket = (await api.post("/api/v1/ws-tickets", headers=user.headers)).json()["ticket"]
    return await websockets.connect(f"{ws_url(base)}?ticket={ticket}", max_size=2**22)


async def recv(socket: websockets.ClientConnection, kind: str | None = None, **match: Any) -> dict[str, Any]:
    """The next frame of `kind` (and with these field values), skipping others."""
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        if (kind is None or frame["type"] == kind) and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def send(socket: websockets.ClientConnection, **frame: Any) -> None:
    await socket.send(json.dumps(frame, default=str))


async def update_until(socket: websockets.ClientConnection, appointment_id: str, check: Any) -> dict[str, Any]:
    """Session updates until one whose session satisfies `check` (updates of earlier changes may come first)."""
    while True:
        frame = await recv(socket, "session_update", appointment_id=appointment_id)
        if check(frame["session"]):
            return frame


async def attend(api: httpx.AsyncClient, appointment_id: str, therapist: LoggedIn, client: LoggedIn) -> None:
    """Both really attend, inside the join window: the client checks in and is admitted, both join the call
    (which starts the session), then both hang up."""
    check_in = await api.post(f"/api/v1/appointments/{appointment_id}/check-in", json=CHECK_IN, headers=client.headers)
    assert check_in.status_code == 200, check_in.text
    admitted = await api.post(f"/api/v1/appointments/{appointment_id}/session/admit", headers=therapist.headers)
    assert admitted.status_code == 200, admitted.text
    base = str(api.base_url).rstrip("/")
    sockets = [await connect(api, base, therapist), await connect(api, base, client)]
    try:
        for socket in sockets:
            await send(socket, type="session_join", appointment_id=appointment_id)
            await recv(socket, "session_joined")
    finally:
        for socket in sockets:
            await socket.close()
