"""The aiortc internals the forwarding relay relies on (infra/media/forwarding.py, ice.py), exercised directly.

aiortc is pinned exactly in pyproject.toml; when an upgrade moves any of these, this file fails before a call does.
"""

from __future__ import annotations

import asyncio
import threading

import aioice
import aioice.ice
import aiortc
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RtcpPsfbPacket, RtpPacket

from infra.media.forwarding import ForwardTrack, Publication, attach_forward_track
from infra.media.frames import EncodedFrame
from infra.media.ice import IceServer, rtc_configuration, use_host_addresses

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)


class FakeTransport:
    """Just enough of RTCDtlsTransport for a lone sender or receiver."""

    state = "connected"
    _stats_id = "t"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def _register_rtp_receiver(self, receiver: object, parameters: object) -> None: ...

    def _unregister_rtp_receiver(self, receiver: object) -> None: ...

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)


def test_the_pinned_versions() -> None:
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


async def test_receiver_frames_reach_the_relay_before_any_decoder_and_the_decoder_thread_idles() -> None:
    receiver = RTCRtpReceiver("video", FakeTransport())  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind="video")
    publication = Publication("ana", "video", receiver)
    track = ForwardTrack("video")
    track.switch(publication)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
    try:
        await _forward_one_keyframe(receiver, track)
    finally:
        await receiver.stop()
    assert "video-decoder" not in [t.name for t in threading.enumerate()]


async def _forward_one_keyframe(receiver: RTCRtpReceiver, track: ForwardTrack) -> None:

    keyframe = b"\x10\x02\x00\x9d\x01\x2a" + bytes(3000)  # frame tag bit 0 clear: a key frame
    payloads = Vp8Encoder._packetize(keyframe, picture_id=1)
    for seq, payload in enumerate([b"\x90\x80\x01\x01", *payloads]):  # a 1-byte frame first, then the key frame
        packet = RtpPacket(payload_type=97, sequence_number=seq, timestamp=seq and 3000, ssrc=1234)
        packet.payload = payload
        packet.marker = int(seq == 0 or seq == len(payloads))
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)

    frame = await asyncio.wait_for(track._queue.get(), 1)
    assert (frame.codec, frame.data, frame.keyframe) == ("VP8", keyframe, True)
    assert [t.name for t in threading.enumerate()].count("video-decoder") == 1  # started, fed nothing


async def test_a_key_frame_request_from_a_relay_sender_becomes_a_pli_to_the_source() -> None:
    transport = FakeTransport()
    receiver = RTCRtpReceiver("video", transport)  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind="video")
    receiver._set_rtcp_ssrc(42)
    publication = Publication("ana", "video", receiver)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
    packet = RtpPacket(payload_type=97, sequence_number=1, timestamp=0, ssrc=777)
    packet.payload = b"\x90\x80\x01\x01"
    await receiver._handle_rtp_packet(packet, arrival_time_ms=0)  # the source's SSRC becomes known

    sender = RTCRtpSender("video", FakeTransport())  # type: ignore[arg-type]
    track = ForwardTrack("video")
    attach_forward_track(sender, track, "VP8")
    try:
        track.switch(publication)  # a new receiver: one key-frame request at once
        await asyncio.sleep(0.15)  # past the interval within which requests are merged
        for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=sender._ssrc))
            await asyncio.sleep(0.15)
        plis = [data for data in transport.sent if data[1] == 206 and data[0] & 0x1F == RTCP_PSFB_PLI]
        assert len(plis) == 3
        assert all(int.from_bytes(data[8:12], "big") == 777 for data in plis)  # addressed to the source's SSRC
    finally:
        await receiver.stop()


async def test_a_sender_packs_our_frames_with_our_packer_and_never_makes_an_encoder(monkeypatch) -> None:
    import aiortc.rtcrtpsender

    def no_encoder(codec: object) -> None:
        raise AssertionError("get_encoder called")

    monkeypatch.setattr(aiortc.rtcrtpsender, "get_encoder", no_encoder)
    sender = RTCRtpSender("video", FakeTransport())  # type: ignore[arg-type]
    track = ForwardTrack("video")
    attach_forward_track(sender, track, "VP8")
    track._started = True
    track._need_keyframe = False
    track._queue.put_nowait(EncodedFrame("VP8", b"\x10" + bytes(2000), 6000, True))
    encoded = await sender._next_encoded_frame(VP8)
    assert encoded is not None and len(encoded.payloads) == 2 and encoded.timestamp == 0


async def test_offer_directions_and_codecs_are_where_the_relay_reads_them() -> None:
    client = RTCPeerConnection(rtc_configuration([]))
    client.addTransceiver("video", direction="recvonly")
    client.addTransceiver("audio", direction="sendonly")
    await client.setLocalDescription(await client.createOffer())
    relay = RTCPeerConnection(rtc_configuration([]))
    await relay.setRemoteDescription(RTCSessionDescription(sdp=client.localDescription.sdp, type="offer"))
    video, audio = relay.getTransceivers()
    assert (video._offerDirection, audio._offerDirection) == ("sendonly", "recvonly")
    assert [c.name for c in video._codecs][:2] == ["VP8", "rtx"]
    assert audio.receiver.track is not None and video.receiver.track is None
    video.direction = "sendonly"
    video._codecs = video._codecs[:1]
    await relay.setLocalDescription(await relay.createAnswer())
    assert "a=sendonly" in relay.localDescription.sdp and "H264" not in relay.localDescription.sdp
    await client.close()
    await relay.close()


async def test_host_addresses_replace_aioices_discovery_including_loopback() -> None:
    use_host_addresses(["127.0.0.1"])
    try:
        connection = aioice.Connection(ice_controlling=True, components=1)
        await connection.gather_candidates()
        assert [(c.host, c.type) for c in connection.local_candidates] == [("127.0.0.1", "host")]
        await connection.close()
    finally:
        use_host_addresses([])
    assert aioice.ice.get_host_addresses.__name__ == "get_host_addresses"


def test_no_public_stun_server_when_none_is_configured() -> None:
    assert rtc_configuration([]).iceServers == []
    configured = rtc_configuration([IceServer(urls=["stun:stun.example.org:3478"])])
    assert [s.urls for s in configured.iceServers] == [["stun:stun.example.org:3478"]]


@pytest.mark.parametrize("name", ["_RTCRtpReceiver__jitter_buffer", "_RTCRtpReceiver__decoder_queue"])
def test_receiver_private_slots_exist(name: str) -> None:
    assert hasattr(RTCRtpReceiver("audio", FakeTransport()), name)  # type: ignore[arg-type]


def test_sender_encoder_slot_exists() -> None:
    sender = RTCRtpSender("audio", FakeTransport())  # type: ignore[arg-type]
    assert sender._RTCRtpSender__encoder is None  # type: ignore[attr-defined]


async def test_a_key_frame_asked_for_before_the_source_sent_anything_is_asked_for_when_it_starts() -> None:
    transport = FakeTransport()
    receiver = RTCRtpReceiver("video", transport)  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind="video")
    receiver._set_rtcp_ssrc(42)
    publication = Publication("ana", "video", receiver)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
    track = ForwardTrack("video")
    try:
        track.switch(publication)  # subscribed before any packet: no SSRC to address a PLI to yet
        await asyncio.sleep(0.15)
        assert not [data for data in transport.sent if data[1] == 206]
        packet = RtpPacket(payload_type=97, sequence_number=0, timestamp=0, ssrc=777)
        # The stream's first frame: the assembler skips it (it may be a tail) and asks the source for a key frame.
        packet.payload = b"\x90\x80\x01\x01"
        packet.marker = 1
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        await asyncio.sleep(0.05)
        plis = [data for data in transport.sent if data[1] == 206 and data[0] & 0x1F == RTCP_PSFB_PLI]
        assert [int.from_bytes(data[8:12], "big") for data in plis] == [777]
    finally:
        await receiver.stop()
