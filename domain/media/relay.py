"""The media relay port.

The relay is request/response only, so the same port works in-process (`hearth serve`) and across processes
(`hearth relay`): a participant sends an offer and gets an answer. When the room's roster changes, the session
service tells the participants (over their WebSocket) to renegotiate; each then offers again with one receive-only
audio and video transceiver per other participant, and the answer says which source each forwarded stream carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.shared.errors import Conflict, DomainError

ROOM_LIMIT = 8


class RoomFull(Conflict):
    code = "room_full"


class RelayUnavailable(DomainError):
    """The relay process did not answer, or failed (a separate `hearth relay` that is down or restarting)."""

    code = "relay_unavailable"


@dataclass(frozen=True)
class RelayAnswer:
    sdp: str
    # SDP media id (mid) of each forwarded stream -> the participant whose media it carries.
    streams: dict[str, str] = field(default_factory=dict)


class MediaRelay(Protocol):
    async def negotiate(self, room_id: str, participant_id: str, offer_sdp: str) -> RelayAnswer:
        """Join the room or renegotiate; raises RoomFull beyond ROOM_LIMIT participants."""
        ...

    async def leave(self, room_id: str, participant_id: str) -> None: ...

    async def close_room(self, room_id: str) -> None: ...

    async def participants(self, room_id: str) -> list[str]: ...
