"""`ForwardingRelay`: the MediaRelay port on aiortc, forwarding encoded media between a room's participants.

Each participant has one RTCPeerConnection with the relay. Its offer carries its own audio/video (send) and one
receive-only audio and video transceiver per other participant; the relay answers, receiving the former and
sending, on each of the latter, another participant's frames exactly as they arrived (no decoding, no encoding).
A room uses one video codec for everyone (VP8 if the first publisher offers it, else H.264) and Opus for audio,
so a frame can go to any receiver unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.codecs import is_rtx

from domain.media.relay import ROOM_LIMIT, RelayAnswer, RoomFull
from domain.shared.errors import ValidationFailed
from infra.media.forwarding import ForwardTrack, Publication, attach_forward_track, stop_quietly
from infra.media.ice import IceSettings, enlarge_receive_buffers, rtc_configuration, use_host_addresses

logger = logging.getLogger(__name__)

_VIDEO_CODECS = ("VP8", "H264")  # in order of preference for a new room
_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)", re.MULTILINE)


@dataclass
class _Participant:
    id: str
    pc: RTCPeerConnection
    ufrag: str | None
    publications: dict[str, Publication] = field(default_factory=dict)  # kind -> publication
    subscriptions: dict[str, ForwardTrack] = field(default_factory=dict)  # mid -> track


@dataclass
class _Room:
    id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    members: dict[str, _Participant] = field(default_factory=dict)  # in join order
    video_codec: str | None = None


class ForwardingRelay:
    def __init__(self, ice: IceSettings | None = None, *, room_limit: int = ROOM_LIMIT) -> None:
        self._ice = ice or IceSettings()
        self._room_limit = room_limit
        self._rooms: dict[str, _Room] = {}
        use_host_addresses(self._ice.host_addresses)

    async def negotiate(self, room_id: str, participant_id: str, offer_sdp: str) -> RelayAnswer:
        room = self._rooms.setdefault(room_id, _Room(room_id))
        async with room.lock:
            try:
                return await self._negotiate(room, participant_id, offer_sdp)
            finally:
                if not room.members and self._rooms.get(room_id) is room:
                    del self._rooms[room_id]

    async def _negotiate(self, room: _Room, participant_id: str, offer_sdp: str) -> RelayAnswer:
        member = room.members.get(participant_id)
        ufrag = _ice_ufrag(offer_sdp)
        if member is not None and (member.ufrag != ufrag or member.pc.connectionState in ("failed", "closed")):
            # A new connection from the same participant (a reload, an ICE restart): aiortc cannot restart ICE.
            await self._remove(room, member)
            member = None
        if member is None:
            if len(room.members) >= self._room_limit:
                raise RoomFull(f"a room holds at most {self._room_limit} participants")
            member = _Participant(participant_id, RTCPeerConnection(rtc_configuration(self._ice.servers)), ufrag)
            room.members[participant_id] = member
            self._watch(room, member)
        pc = member.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            self._restrict_codecs(room, pc.getTransceivers())
            self._publish(member)
            streams = self._subscribe(room, member)
            await pc.setLocalDescription(await pc.createAnswer())
            enlarge_receive_buffers(pc)
        except Exception as exc:  # aiortc's parse and negotiation errors share no base (OperationError is plain)
            await self._remove(room, member)
            raise ValidationFailed("the offer cannot be relayed", code="relay_offer_rejected") from exc
        return RelayAnswer(sdp=pc.localDescription.sdp, streams=streams)

    async def leave(self, room_id: str, participant_id: str) -> None:
        room = self._rooms.get(room_id)
        if room is None:
            return
        async with room.lock:
            member = room.members.get(participant_id)
            if member is not None:
                await self._remove(room, member)
            if not room.members and self._rooms.get(room_id) is room:
                del self._rooms[room_id]

    async def close_room(self, room_id: str) -> None:
        room = self._rooms.pop(room_id, None)
        if room is None:
            return
        async with room.lock:
            for member in list(room.members.values()):
                await self._remove(room, member)

    async def participants(self, room_id: str) -> list[str]:
        room = self._rooms.get(room_id)
        return list(room.members) if room else []

    async def close(self) -> None:
        for room_id in list(self._rooms):
            await self.close_room(room_id)

    def rooms(self) -> list[str]:
        return list(self._rooms)

    # -- negotiation steps

    def _restrict_codecs(self, room: _Room, transceivers: list[RTCRtpTransceiver]) -> None:
        if room.video_codec is None:
            offered = {c.name.upper() for t in transceivers if t.kind == "video" for c in t._codecs}
            room.video_codec = next((name for name in _VIDEO_CODECS if name in offered), None)
        for transceiver in transceivers:
            wanted = "OPUS" if transceiver.kind == "audio" else room.video_codec
            main = next((c for c in transceiver._codecs if c.name.upper() == wanted), None)
            if main is None:
                raise LookupError(f"no {wanted} in the offer's {transceiver.kind}")
            rtx = [c for c in transceiver._codecs if is_rtx(c) and c.parameters.get("apt") == main.payloadType]
            transceiver._codecs = [main, *rtx[:1]]

    def _publish(self, member: _Participant) -> None:
        for transceiver in member.pc.getTransceivers():
            receiver = transceiver.receiver
            # _offerDirection is the offer's direction seen from the relay: "recvonly" = the participant sends.
            sends = transceiver._offerDirection in ("recvonly", "sendrecv")
            if not sends or receiver.track is None or transceiver.kind in member.publications:
                continue
            if any(p.receiver is receiver for p in member.publications.values()):
                continue
            member.publications[transceiver.kind] = Publication(member.id, transceiver.kind, receiver)

    def _subscribe(self, room: _Room, member: _Participant) -> dict[str, str]:
        """Give each of `member`'s receive-only transceivers a source: keep current ones, fill free slots."""
        streams: dict[str, str] = {}
        for kind in ("audio", "video"):
            sources = [
                other.publications[kind]
                for other in room.members.values()
                if other is not member and kind in other.publications
            ]
            slots: list[tuple[str, ForwardTrack]] = []
            for transceiver in member.pc.getTransceivers():
                if transceiver.kind != kind or transceiver._offerDirection != "sendonly" or transceiver.mid is None:
                    continue
                transceiver.direction = "sendonly"
                track = member.subscriptions.get(transceiver.mid)
                if track is None:
                    track = ForwardTrack(kind)
                    attach_forward_track(transceiver.sender, track, transceiver._codecs[0])
                    member.subscriptions[transceiver.mid] = track
                slots.append((transceiver.mid, track))
            kept = {track.source for _, track in slots if track.source in sources}
            free = [s for s in sources if s not in kept]
            for mid, track in slots:
                if track.source not in kept:
                    track.switch(free.pop(0) if free else None)
                if track.source is not None:
                    streams[mid] = track.source.participant_id
        return streams

    # -- leaving

    def _watch(self, room: _Room, member: _Participant) -> None:
        @member.pc.on("connectionstatechange")
        async def on_state() -> None:
            if member.pc.connectionState in ("failed", "closed") and room.members.get(member.id) is member:
                await self.leave(room.id, member.id)

    async def _remove(self, room: _Room, member: _Participant) -> None:
        if room.members.get(member.id) is member:
            del room.members[member.id]
        for publication in member.publications.values():
            publication.close()
        for track in member.subscriptions.values():
            track.switch(None)
        await stop_quietly(member.pc.close())


def _ice_ufrag(sdp: str) -> str | None:
    found = _UFRAG.search(sdp)
    return found.group(1) if found else None
