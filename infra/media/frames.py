"""Encoded frames as the relay sees them: reassembled from RTP, classified, and packetized again for each receiver.

Nothing here touches a codec: VP8 and H.264 frames are recognised as key frames from their first bytes, and
re-packetized with aiortc's own packetizers (class/static methods, so no encoder object is ever made).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

_H264_IDR = 5
_H264_SPS = 7
# Packets held while waiting for a missing one before the frame is given up (and a key frame requested).
_MAX_GAP = 128
# ...or how long: a NACKed packet comes back within a round trip; past this the frame is given up anyway (a freeze
# until the next key frame beats a growing delay).
_MAX_WAIT = 0.15


def is_keyframe(codec_name: str, data: bytes) -> bool:
    name = codec_name.upper()
    if name == "VP8":
        # RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
        return bool(data) and data[0] & 0x01 == 0
    if name == "H264":
        index = data.find(b"\x00\x00\x01")
        while index != -1 and index + 3 < len(data):
            if data[index + 3] & 0x1F in (_H264_IDR, _H264_SPS):
                return True
            index = data.find(b"\x00\x00\x01", index + 3)
        return False
    return True


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One encoded frame as it leaves a source: the depayloaded bytes and the source's RTP timestamp."""

    codec: str
    data: bytes
    timestamp: int
    keyframe: bool
    # Wall clock (time.monotonic) when the relay had the whole frame; the bench reads it, nothing else does.
    arrived: float = 0.0


class FrameAssembler:
    """Stands in for aiortc's JitterBuffer in a relay receiver (same `add` contract).

    aiortc's buffer hands a video frame over only when the first packet of the NEXT frame arrives, and holds four
    audio packets before the first one: for a decoder that is harmless, for a relay it is a frame of added delay per
    hop. A forwarder can pass a video frame on as soon as its marker packet completes it, and audio packets at once
    (the receiving browser has its own jitter buffer).
    """

    def __init__(self, is_video: bool) -> None:
        self._is_video = is_video
        self._packets: dict[int, RtpPacket] = {}
        self._next: int | None = None  # sequence number that starts the next frame
        self._last_audio: int | None = None
        self._blocked_since: float | None = None

    @property
    def capacity(self) -> int:
        return _MAX_GAP

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        data: bytes = packet._data  # type: ignore[attr-defined]
        seq = packet.sequence_number
        if not self._is_video:
            if self._last_audio is not None and not uint16_gt(seq, self._last_audio):
                return False, None  # late or duplicate: aiortc's timestamp mapper wants time to move forward
            self._last_audio = seq
            return False, JitterFrame(data=data, timestamp=packet.timestamp)

        if self._next is None:
            # The first frame seen may be a tail: start after the first marker, and since the frame skipped may
            # have been the stream's key frame, ask the source for another (aiortc's receiver sends the PLI).
            if packet.marker:
                self._next = uint16_add(seq, 1)
                return True, None
            return False, None
        if not uint16_gt(uint16_add(seq, 1), self._next):
            return False, None  # belongs to a frame already passed on or given up
        self._packets[seq] = packet
        return self._take()

    def _take(self) -> tuple[bool, JitterFrame | None]:
        # At most one frame per packet (the JitterBuffer contract); a retransmission that completes two frames
        # releases the second on the next packet.
        assert self._next is not None
        parts: list[bytes] = []
        seq = self._next
        timestamp: int | None = None
        for _ in range(_MAX_GAP):
            found = self._packets.get(seq)
            if found is None:
                break
            if timestamp is None:
                timestamp = found.timestamp
            elif found.timestamp != timestamp:
                break  # a new frame started without a marker: the previous one was incomplete or unmarked
            parts.append(found._data)  # type: ignore[attr-defined]
            if found.marker:
                for done in range(len(parts)):
                    self._packets.pop(uint16_add(self._next, done), None)
                self._next = uint16_add(seq, 1)
                self._blocked_since = None
                return False, JitterFrame(data=b"".join(parts), timestamp=timestamp)
            seq = uint16_add(seq, 1)
        now = time.monotonic()
        if self._blocked_since is None:
            self._blocked_since = now
        if len(self._packets) >= _MAX_GAP or (now - self._blocked_since > _MAX_WAIT and self._later_frame_done()):
            self._resync()
            self._blocked_since = None
            return True, None
        return False, None

    def _later_frame_done(self) -> bool:
        # Only give up waiting when something newer is complete, i.e. the missing packet is really missing.
        return any(packet.marker for packet in self._packets.values())

    def _resync(self) -> None:
        # A packet is lost for good: drop everything up to the newest marker and ask for a key frame.
        markers = [seq for seq, packet in self._packets.items() if packet.marker]
        newest = max(markers, key=lambda s: (s - (self._next or 0)) % 65536) if markers else None
        self._packets.clear()
        self._next = None if newest is None else uint16_add(newest, 1)


class ForwardingPacker:
    """Sits in an RTCRtpSender's encoder slot: packs already-encoded frames, never encodes."""

    def __init__(self, codec_name: str) -> None:
        self.codec_name = codec_name.upper()
        self._picture_id = 0

    def encode(self, frame: object, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        raise RuntimeError("the relay forwards encoded media and never encodes")

    def pack(self, frame: EncodedFrame) -> tuple[list[bytes], int]:
        if self.codec_name == "VP8":
            payloads = Vp8Encoder._packetize(frame.data, self._picture_id)
            self._picture_id = (self._picture_id + 1) % (1 << 15)
        elif self.codec_name == "H264":
            payloads = H264Encoder._packetize(H264Encoder._split_bitstream(frame.data))
        else:
            payloads = [frame.data]
        return payloads, frame.timestamp
