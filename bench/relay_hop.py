"""The relay's own time per forwarded frame, without network, SRTP or other processes: from the last packet of a
640x480-sized VP8 frame (4.2 kB, four packets) being handed to a relay receiver to that packet leaving the relay
sender. This is the part of bench/relay.py's relayed latency that the relay's code decides; the rest is the kernel
and the scheduler.

    .venv/bin/python bench/relay_hop.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtpPacket

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.media.forwarding import ForwardTrack, Publication, attach_forward_track

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
FRAMES = 400


class Transport:
    """Just enough of RTCDtlsTransport: notes when a marker packet (a frame's last) is sent."""

    state = "connected"
    _stats_id = "t"

    def __init__(self) -> None:
        self.done: asyncio.Future[float] | None = None

    def _register_rtp_receiver(self, *args: object) -> None: ...

    def _unregister_rtp_receiver(self, *args: object) -> None: ...

    def _register_rtp_sender(self, *args: object) -> None: ...

    def _unregister_rtp_sender(self, *args: object) -> None: ...

    async def _send_rtp(self, data: bytes) -> None:
        is_rtcp = 192 <= data[1] <= 223
        if not is_rtcp and data[1] & 0x80 and self.done is not None and not self.done.done():
            self.done.set_result(time.perf_counter())


async def main() -> None:
    inbound, outbound = Transport(), Transport()
    receiver = RTCRtpReceiver("video", inbound)  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind="video")
    receiver._set_rtcp_ssrc(42)
    publication = Publication("source", "video", receiver)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
    track = ForwardTrack("video")
    sender = RTCRtpSender("video", outbound)  # type: ignore[arg-type]
    attach_forward_track(sender, track, VP8)
    await sender.send(RTCRtpSendParameters(codecs=[VP8], muxId="1", rtcp=RTCRtcpParameters(cname="bench")))
    track.switch(publication)
    seq = 0
    times: list[float] = []
    for n in range(FRAMES):
        key = n % 100 == 0
        frame = (b"\x10\x02\x00\x9d\x01\x2a" if key else b"\x11\x02\x00") + bytes(4200)
        payloads = Vp8Encoder._packetize(frame, picture_id=n % 32768)
        outbound.done = asyncio.get_running_loop().create_future()
        start = 0.0
        for i, payload in enumerate(payloads):
            packet = RtpPacket(payload_type=97, sequence_number=seq % 65536, timestamp=n * 3000, ssrc=5)
            packet.payload = payload
            packet.marker = int(i == len(payloads) - 1)
            seq += 1
            if packet.marker:
                start = time.perf_counter()
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        try:
            end = await asyncio.wait_for(outbound.done, 0.5)
        except TimeoutError:
            continue
        if n >= 10:
            times.append((end - start) * 1e6)
        await asyncio.sleep(0.002)
    await receiver.stop()
    await sender.stop()
    times.sort()
    print(
        f"relay time of a frame's last packet, receiver to sender (no network): {len(times)} frames,"
        f" p50 {times[len(times) // 2]:.0f} us, p95 {times[int(len(times) * 0.95)]:.0f} us"
    )


if __name__ == "__main__":
    asyncio.run(main())
