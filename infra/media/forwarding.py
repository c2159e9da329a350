"""Where the relay plugs into aiortc: a receiver's frames are taken before decoding, a sender is fed encoded frames.

Every private name used here is pinned by the exact aiortc version in pyproject.toml and checked by
tests/unit/media/test_aiortc_internals.py, so an upgrade that moves them fails there first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamTrack

from infra.media.frames import EncodedFrame, ForwardingPacker, FrameAssembler, is_keyframe

logger = logging.getLogger(__name__)

# Frames a receiver's sender may lag behind its source before the backlog is dropped and a key frame requested.
_BACKLOG = 60
# Key-frame requests to one source closer together than this are merged: one key frame serves every receiver.
_PLI_INTERVAL = 0.1
_VIDEO_STEP = 3000  # one frame at 30 fps on the 90 kHz clock, used only to join two sources' timelines
_AUDIO_STEP = 960  # 20 ms of Opus at 48 kHz


class _FrameSink:
    """Takes the place of the receiver's decoder queue: frames go to the relay, the decoder thread idles."""

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
    """One participant's audio or video as received by the relay, fanned out to subscribed tracks."""

    def __init__(self, participant_id: str, kind: str, receiver: RTCRtpReceiver) -> None:
        self.participant_id = participant_id
        self.kind = kind
        self.receiver = receiver
        self.subscribers: set[ForwardTrack] = set()
        self.frames = 0
        self._last_pli = 0.0
        self._pli_task: asyncio.Task[None] | None = None
        is_video = kind == "video"
        receiver._RTCRtpReceiver__jitter_buffer = FrameAssembler(is_video=is_video)  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__decoder_queue = _FrameSink(self._on_frame)  # type: ignore[attr-defined]

    def _on_frame(self, codec: str, data: bytes, timestamp: int) -> None:
        frame = EncodedFrame(codec, data, timestamp, is_keyframe(codec, data), time.monotonic())
        self.frames += 1
        for track in self.subscribers:
            track.push(frame)

    def request_keyframe(self) -> None:
        if self.kind != "video":
            return
        now = time.monotonic()
        if now - self._last_pli < _PLI_INTERVAL and self._pli_task is not None:
            return
        self._last_pli = now
        sources = self.receiver.getSynchronizationSources()
        if not sources:
            return  # nothing received yet: the first frames of a stream start with a key frame anyway
        ssrc = max(sources, key=lambda s: s.timestamp).source
        self._pli_task = asyncio.ensure_future(self.receiver._send_rtcp_pli(ssrc))

    def close(self) -> None:
        for track in list(self.subscribers):
            track.switch(None)


class ForwardTrack(MediaStreamTrack):
    """What a relay sender reads: the encoded frames of whichever publication it is switched to."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.source: Publication | None = None
        self._queue: asyncio.Queue[EncodedFrame] = asyncio.Queue()
        self._need_keyframe = kind == "video"
        self._started = False
        self._offset: int | None = None
        self._last_out: int | None = None
        self.sent = 0

    def switch(self, source: Publication | None) -> None:
        if source is self.source:
            return
        if self.source is not None:
            self.source.subscribers.discard(self)
        self.source = source
        self._drain()
        self._offset = None
        if source is not None:
            source.subscribers.add(self)
            self._want_keyframe()

    def push(self, frame: EncodedFrame) -> None:
        if self._need_keyframe:
            if not frame.keyframe:
                return
            self._need_keyframe = False
        if self._queue.qsize() >= _BACKLOG:
            # The sender fell behind: a stale burst is worse than a short freeze.
            self._drain()
            self._want_keyframe()
            return
        self._queue.put_nowait(frame)

    def request_keyframe(self) -> None:
        """A receiver asked for a key frame (PLI/FIR at this track's sender): pass it on to the source."""
        if self.source is not None:
            self.source.request_keyframe()

    async def recv(self) -> EncodedFrame:  # type: ignore[override]
        if not self._started:
            # The sender starts once DTLS is up. Audio queued before that is stale; video starts at the newest
            # key frame queued (the one requested when this track subscribed), or waits for a fresh one.
            self._started = True
            queued = self._drain()
            keys = [i for i, f in enumerate(queued) if f.keyframe] if self.kind == "video" else []
            if keys:
                for f in queued[keys[-1] :]:
                    self._queue.put_nowait(f)
            else:
                self._want_keyframe()
        frame = await self._queue.get()
        if self._offset is None:
            step = _VIDEO_STEP if self.kind == "video" else _AUDIO_STEP
            start = 0 if self._last_out is None else self._last_out + step
            self._offset = start - frame.timestamp
        timestamp = frame.timestamp + self._offset
        self._last_out = timestamp
        self.sent += 1
        return EncodedFrame(frame.codec, frame.data, timestamp, frame.keyframe, frame.arrived)

    def _drain(self) -> list[EncodedFrame]:
        drained = []
        while not self._queue.empty():
            drained.append(self._queue.get_nowait())
        return drained

    def _want_keyframe(self) -> None:
        if self.kind == "video":
            self._need_keyframe = True
            if self.source is not None:
                self.source.request_keyframe()


def attach_forward_track(sender: RTCRtpSender, track: ForwardTrack, codec_name: str) -> None:
    """Make `sender` packetize `track`'s encoded frames as they are and route key-frame requests to its source."""
    sender._RTCRtpSender__encoder = ForwardingPacker(codec_name)  # type: ignore[attr-defined]
    # RTCRtpSender._handle_rtcp_packet calls self._send_keyframe() on PLI and FIR.
    sender._send_keyframe = track.request_keyframe  # type: ignore[method-assign]
    sender.replaceTrack(track)


async def stop_quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):
        await awaitable
