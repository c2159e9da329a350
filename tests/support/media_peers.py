"""aiortc peers that talk to a MediaRelay as browsers would: their own audio and video, and one receive-only
audio+video pair per other participant, renegotiating when told to. Each peer's video has its own brightness, so a
receiver can tell whose picture it decodes."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from domain.media.relay import MediaRelay

WIDTH, HEIGHT = 320, 240


class PatternTrack(VideoStreamTrack):
    """Flat grey at `level` with a moving bar (so frames differ and the encoder makes delta frames)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = np.full((HEIGHT * 3 // 2, WIDTH), 128, dtype=np.uint8)
        image[:HEIGHT] = self.level
        x = (self._count * 4) % (WIDTH - 16)
        image[: HEIGHT // 8, x : x + 16] = 255 - self.level
        self._count += 1
        frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        return frame


@dataclass
class Received:
    frames: int = 0
    first_at: float | None = None
    levels: list[float] = field(default_factory=list)


class Peer:
    def __init__(self, relay: MediaRelay, room: str, name: str, level: int, video_mime: str | None = None) -> None:
        self.relay, self.room, self.name, self.level = relay, room, name, level
        # Offer only this video codec (e.g. "video/H264"), as a browser without VP8 would.
        self.video_mime = video_mime
        # max-bundle as browsers do (aiortc's "balanced" mishandles a second video m-line).
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.video = PatternTrack(level)
        self.pc.addTrack(AudioStreamTrack())
        self.video_sender: RTCRtpSender = self.pc.addTrack(self.video)
        self._prefer_codec()
        self.streams: dict[str, str] = {}
        self.received: dict[str, Received] = defaultdict(Received)  # mid -> what arrived on it
        self.keyframe_requests: list[float] = []
        self._consumers: dict[str, asyncio.Task[None]] = {}
        original = self.video_sender._send_keyframe

        def record_keyframe_request() -> None:
            self.keyframe_requests.append(time.monotonic())
            original()

        self.video_sender._send_keyframe = record_keyframe_request  # type: ignore[method-assign]

    async def connect(self, others: int) -> float:
        """Offer with receive-only slots for `others` participants; returns when the answer is applied."""
        slots = sum(1 for t in self.pc.getTransceivers() if t.direction == "recvonly") // 2
        for _ in range(others - slots):
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
        self._prefer_codec()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await self.relay.negotiate(self.room, self.name, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        self.streams = answer.streams
        for transceiver in self.pc.getTransceivers():
            mid = transceiver.mid
            if (
                transceiver.direction == "recvonly"
                and mid
                and mid not in self._consumers
                and transceiver.receiver.track
            ):
                self._consumers[mid] = asyncio.ensure_future(self._consume(mid, transceiver.receiver.track))
        return time.monotonic()

    def _prefer_codec(self) -> None:
        if self.video_mime is None:
            return
        wanted = [
            c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in (self.video_mime, "video/rtx")
        ]
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.setCodecPreferences(wanted)

    async def _consume(self, mid: str, track: object) -> None:
        seen = self.received[mid]
        while True:
            try:
                frame = await track.recv()  # type: ignore[attr-defined]
            except MediaStreamError:
                return
            seen.frames += 1
            if seen.first_at is None:
                seen.first_at = time.monotonic()
            if isinstance(frame, av.VideoFrame):
                luma = frame.to_ndarray(format="yuv420p")[:HEIGHT]
                seen.levels.append(float(luma[HEIGHT // 2 :].mean()))

    def video_from(self, source: str) -> Received:
        return self._by_source(source, "video")

    def audio_from(self, source: str) -> Received:
        return self._by_source(source, "audio")

    def _by_source(self, source: str, kind: str) -> Received:
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == kind and self.streams.get(transceiver.mid or "") == source:
                return self.received[transceiver.mid or ""]
        raise AssertionError(f"{self.name} has no {kind} stream from {source}: {self.streams}")

    async def close(self) -> None:
        for task in self._consumers.values():
            task.cancel()
        await self.pc.close()


async def wait_until(condition, timeout: float = 10.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(interval)
