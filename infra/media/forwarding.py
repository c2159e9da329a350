"""Where the relay plugs into aiortc: a receiver's packets are taken before any jitter buffer or decoder and sent on
by the other participants' senders, one packet at a time.

A packet is forwarded as soon as it arrives, before aiortc's receiver handles it (statistics, bandwidth estimate,
NACKs to the source; a retransmission is forwarded once aiortc has unwrapped it), rewritten for each subscriber:
the sender's SSRC and payload type, a sequence number and timestamp that continue the subscriber's own stream
across source switches, and the sender's header extensions. The payload is not touched. Whole frames are
assembled only for whoever asks for them (`frame_subscribers`: the bench's measuring peers), never on the relay's
path.

Every private name used here is pinned by the exact aiortc version in pyproject.toml and checked by
tests/unit/media/test_aiortc_internals.py, so an upgrade that moves them fails there first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiortc import RTCRtpCodecParameters, RTCRtpReceiver, RTCRtpSender, clock
from aiortc.codecs import is_rtx
from aiortc.codecs.h264 import h264_depayload
from aiortc.codecs.vpx import vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random16, random32, uint16_add, uint16_gt

from infra.media.frames import EncodedFrame, ForwardingPacker, FrameAssembler, is_keyframe

logger = logging.getLogger(__name__)

# Key-frame requests to one source closer together than this are merged: one key frame serves every receiver.
_PLI_INTERVAL = 0.1
# A subscriber still waiting for a key frame this long after asking asks again (a PLI or the key frame was lost).
_KEYFRAME_RETRY = 0.5
_VIDEO_STEP = 3000  # one frame at 30 fps on the 90 kHz clock, used only to join two sources' timelines
_AUDIO_STEP = 960  # 20 ms of Opus at 48 kHz
# How long aiortc's handling of received packets waits behind forwarding (longer than a frame's packets take to arrive).
_BOOKKEEPING_DELAY = 0.002


class FrameSubscriber(Protocol):
    def push(self, frame: EncodedFrame) -> None: ...


def starts_keyframe(codec_name: str, packet: RtpPacket) -> bool:
    """Whether `packet` begins a key frame (read from its payload; only asked while a receiver waits for one)."""
    name = codec_name.upper()
    payload = packet.payload
    if not payload:
        return False
    if name == "VP8":
        # RFC 7741 4.2: S=1 and PID=0 mark the first packet of a frame; the frame tag follows the descriptor.
        if payload[0] & 0x17 != 0x10:
            return False
        try:
            return is_keyframe("VP8", vp8_depayload(payload))
        except ValueError:
            return False
    if name == "H264":
        # The depayloader puts a start code before each NAL unit (or first fragment) in the packet; the NAL types
        # that open a key frame (SPS, IDR) are found after them.
        try:
            return is_keyframe("H264", h264_depayload(payload))
        except ValueError:
            return False
    return True


class _PacketTap:
    """Stands in for the receiver's JitterBuffer: notes each packet for forwarding, assembles frames if asked."""

    def __init__(self, is_video: bool, frames_wanted: Callable[[], bool]) -> None:
        self._assembler = FrameAssembler(is_video=is_video)
        self._frames_wanted = frames_wanted
        self.taken: RtpPacket | None = None

    @property
    def capacity(self) -> int:
        return self._assembler.capacity

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        self.taken = packet
        if self._frames_wanted():
            return self._assembler.add(packet)
        return False, None


class _FrameSink:
    """Takes the place of the receiver's decoder queue: frames (if assembled) go to the relay, the decoder idles."""

    def __init__(self, codec_frames: Callable[[str, bytes, int], None]) -> None:
        self._deliver = codec_frames
        self._stopped = threading.Event()

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._stopped.set()
            return
        codec, frame = task
        self._deliver(codec.name, frame.data, frame.timestamp)

    def get(self) -> None:
        # Called by aiortc's decoder thread, which only ever gets the stop signal from here.
        self._stopped.wait()
        return None


class Publication:
    """One participant's audio or video as received by the relay, forwarded packet by packet to subscribed tracks."""

    def __init__(self, participant_id: str, kind: str, receiver: RTCRtpReceiver) -> None:
        self.participant_id = participant_id
        self.kind = kind
        self.receiver = receiver
        self.subscribers: set[ForwardTrack] = set()
        self.frame_subscribers: set[FrameSubscriber] = set()
        self.packets = 0
        self.frames = 0
        self._last_pli = 0.0
        self._pli_task: asyncio.Task[None] | None = None
        self._pli_pending = False
        self._tap = _PacketTap(kind == "video", lambda: bool(self.frame_subscribers))
        receiver._RTCRtpReceiver__jitter_buffer = self._tap  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__decoder_queue = _FrameSink(self._on_frame)  # type: ignore[attr-defined]
        self._handle: Callable[[RtpPacket, int], Awaitable[None]] = receiver._handle_rtp_packet
        self._backlog: deque[tuple[RtpPacket, int]] = deque()
        self._catching_up: asyncio.Handle | asyncio.Task[None] | None = None
        codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]

        async def handle_and_forward(packet: RtpPacket, arrival_time_ms: int) -> None:
            # A media packet goes on at once. aiortc's own handling (bandwidth estimate, statistics, NACKs to the
            # source, depayloading, unwrapping retransmissions) follows a moment later for all the packets that came
            # meanwhile, so it does not hold up the rest of a frame, or other sources' frames, on a busy relay.
            codec = codecs.get(packet.payload_type)
            if codec is not None and not is_rtx(codec) and receiver._enabled:
                await self._forward(packet)
            self._backlog.append((packet, arrival_time_ms))
            if isinstance(self._catching_up, asyncio.Task):
                return  # a catch-up is running: it owns the backlog (one consumer keeps aiortc's handling in order)
            if self.frame_subscribers:
                await self._handle_backlog()  # whoever takes whole frames (the bench's peers) gets them when complete
            elif self._catching_up is None:
                self._catching_up = asyncio.get_running_loop().call_later(_BOOKKEEPING_DELAY, self._catch_up)

        # RtpRouter looks the method up on the receiver for every packet.
        receiver._handle_rtp_packet = handle_and_forward  # type: ignore[method-assign]

    def _catch_up(self) -> None:
        self._catching_up = asyncio.ensure_future(self._handle_backlog())

    async def _handle_backlog(self) -> None:
        try:
            while self._backlog:
                packet, arrival_time_ms = self._backlog.popleft()
                await self._handle(packet, arrival_time_ms)  # arrival time as measured, for the bandwidth estimate
                if self._pli_pending:
                    self._pli_pending = False
                    self.request_keyframe()  # the source's SSRC is known now
                taken, self._tap.taken = self._tap.taken, None
                if taken is not None and taken is not packet:
                    await self._forward(taken)  # a retransmission the source sent on request, unwrapped by aiortc
        finally:
            if self._catching_up is asyncio.current_task():
                self._catching_up = None

    async def _forward(self, packet: RtpPacket) -> None:
        self.packets += 1
        for track in list(self.subscribers):
            await track.forward(packet)

    def _on_frame(self, codec: str, data: bytes, timestamp: int) -> None:
        frame = EncodedFrame(codec, data, timestamp, is_keyframe(codec, data), time.monotonic())
        self.frames += 1
        for subscriber in self.frame_subscribers:
            subscriber.push(frame)

    def request_keyframe(self) -> None:
        if self.kind != "video":
            return
        now = time.monotonic()
        if now - self._last_pli < _PLI_INTERVAL and self._pli_task is not None:
            return
        sources = self.receiver.getSynchronizationSources()
        if not sources:
            self._pli_pending = True  # asked again with the source's first packet
            return
        self._last_pli = now
        ssrc = max(sources, key=lambda s: s.timestamp).source
        self._pli_task = asyncio.ensure_future(self.receiver._send_rtcp_pli(ssrc))

    def close(self) -> None:
        if self._catching_up is not None:
            self._catching_up.cancel()  # no bookkeeping left to do for a source that is gone
            self._catching_up = None
        self._backlog.clear()
        for track in list(self.subscribers):
            track.switch(None)


class _SenderSlot:
    """The parts of an RTCRtpSender's RTP loop a forwarded packet goes through (its own loop is left idle)."""

    def __init__(self, sender: RTCRtpSender) -> None:
        self.sender = sender

    @property
    def started(self) -> bool:
        return bool(self.sender._RTCRtpSender__started)  # type: ignore[attr-defined]

    async def send(self, packet: RtpPacket) -> None:
        sender = self.sender
        now = clock.current_ntp_time()
        packet.ssrc = sender._ssrc
        packet.extensions.abs_send_time = (now >> 14) & 0x00FFFFFF
        packet.extensions.mid = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        # Kept for NACKs from the receiver: RTCRtpSender._retransmit resends from this history (as RTX).
        sender._RTCRtpSender__rtp_history[packet.sequence_number % RTP_HISTORY_SIZE] = packet  # type: ignore[attr-defined]
        data = packet.serialize(sender._RTCRtpSender__rtp_header_extensions_map)  # type: ignore[attr-defined]
        await sender.transport._send_rtp(data)
        # What the sender's RTCP sender reports (and getStats) are made of.
        sender._RTCRtpSender__ntp_timestamp = now  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = packet.timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(packet.payload)  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]


class ForwardTrack(MediaStreamTrack):
    """One relay sender's stream: the packets of whichever publication it is switched to, renumbered as one stream.

    It is also the sender's track, so that aiortc starts the sender; its `recv` never yields a frame (the sender's
    own RTP loop idles, packets are sent by `forward`).
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.source: Publication | None = None
        self._slot: _SenderSlot | None = None
        self._codec = ""
        self._payload_type = 0
        self._live = False  # the sender is started (DTLS is up) and has been told about
        self._need_keyframe = kind == "video"
        self._asked = 0.0
        self._next_seq = random16()
        self._last_ts: int | None = None
        self._source_ssrc: int | None = None
        self._first_source_seq = 0
        self._seq_offset: int | None = None  # None: the next packet forwarded starts a new mapping
        self._ts_offset = 0
        self._ended: asyncio.Future[None] | None = None
        self.sent = 0

    def attach(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
        self._slot = _SenderSlot(sender)
        self._codec = codec.name
        self._payload_type = codec.payloadType or 0

    def switch(self, source: Publication | None) -> None:
        if source is self.source:
            return
        if self.source is not None:
            self.source.subscribers.discard(self)
        self.source = source
        self._restart()
        if source is not None:
            source.subscribers.add(self)
            self._want_keyframe()

    def request_keyframe(self) -> None:
        """A receiver asked for a key frame (PLI/FIR at this track's sender): pass it on to the source."""
        if self.source is not None:
            self.source.request_keyframe()

    async def forward(self, packet: RtpPacket) -> None:
        slot = self._slot
        if slot is None or not slot.started:
            return  # not negotiated or DTLS not up yet: nothing can be sent
        if not self._live:
            # Whatever key frame was asked for at subscription went by before the sender could send it.
            self._live = True
            if self._need_keyframe:
                self._want_keyframe()
        if packet.ssrc != self._source_ssrc:
            if self._source_ssrc is not None:
                self._restart()  # the source restarted its stream: a new timeline and, for video, a key frame
                self._want_keyframe()
            self._source_ssrc = packet.ssrc
        if self._seq_offset is None:
            if self._need_keyframe:
                if not starts_keyframe(self._codec, packet):
                    if time.monotonic() - self._asked > _KEYFRAME_RETRY:
                        self._want_keyframe()
                    return
                self._need_keyframe = False
            # Continue this subscriber's sequence numbers and timestamps where the previous source left them.
            self._seq_offset = (self._next_seq - packet.sequence_number) % 65536
            self._first_source_seq = packet.sequence_number
            step = _VIDEO_STEP if self.kind == "video" else _AUDIO_STEP
            start = random32() if self._last_ts is None else (self._last_ts + step) % (1 << 32)
            self._ts_offset = (start - packet.timestamp) % (1 << 32)
        elif uint16_gt(self._first_source_seq, packet.sequence_number):
            return  # from before this mapping started (a late retransmission)
        seq = (packet.sequence_number + self._seq_offset) % 65536
        timestamp = (packet.timestamp + self._ts_offset) % (1 << 32)
        if not uint16_gt(self._next_seq, seq):
            self._next_seq = uint16_add(seq, 1)
            self._last_ts = timestamp
        out = RtpPacket(
            payload_type=self._payload_type,
            marker=packet.marker,
            sequence_number=seq,
            timestamp=timestamp,
            payload=packet.payload,
        )
        out.padding_size = packet.padding_size
        out.extensions.audio_level = packet.extensions.audio_level
        try:
            await slot.send(out)
        except ConnectionError:
            return  # the subscriber's transport closed under us; its connection's teardown follows
        self.sent += 1

    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        if self._ended is None:
            self._ended = asyncio.get_running_loop().create_future()
        await self._ended
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def _restart(self) -> None:
        self._seq_offset = None
        self._source_ssrc = None
        self._need_keyframe = self.kind == "video"

    def _want_keyframe(self) -> None:
        if self.kind == "video":
            self._need_keyframe = True
            self._asked = time.monotonic()
            if self.source is not None:
                self.source.request_keyframe()


def attach_forward_track(sender: RTCRtpSender, track: ForwardTrack, codec: RTCRtpCodecParameters) -> None:
    """Make `sender` send `track`'s forwarded packets and route key-frame requests to its source."""
    track.attach(sender, codec)
    # No encoder is ever made: the encoder slot holds a packer that refuses to encode (and is never reached).
    sender._RTCRtpSender__encoder = ForwardingPacker(codec.name)  # type: ignore[attr-defined]
    # RTCRtpSender._handle_rtcp_packet calls self._send_keyframe() on PLI and FIR.
    sender._send_keyframe = track.request_keyframe  # type: ignore[method-assign]
    sender.replaceTrack(track)


async def stop_quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):
        await awaitable
