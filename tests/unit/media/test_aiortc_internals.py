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
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RTCP_RTPFB_NACK, RtcpPsfbPacket, RtcpRtpfbPacket, RtpPacket

from infra.media.forwarding import ForwardTrack, Publication, attach_forward_track
from infra.media.frames import ForwardingPacker
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

    def _register_rtp_sender(self, sender: object, parameters: object) -> None: ...

    def _unregister_rtp_sender(self, sender: object) -> None: ...

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)


def test_the_pinned_versions() -> None:
    assert aiortc.__version__ == "1.16.0"
    assert aioice.__version__ == "0.13.0"


def vp8_packets(ssrc: int, first_seq: int, timestamp: int, keyframe: bool, size: int = 3000) -> list[RtpPacket]:
    """One VP8 frame as a source sends it: aiortc's packetizer, consecutive sequence numbers, marker on the last."""
    frame = (b"\x10\x02\x00\x9d\x01\x2a" if keyframe else b"\x11\x02\x00") + bytes(size)
    payloads = Vp8Encoder._packetize(frame, picture_id=first_seq % (1 << 15))
    packets = []
    for i, payload in enumerate(payloads):
        packet = RtpPacket(payload_type=97, sequence_number=(first_seq + i) % 65536, timestamp=timestamp, ssrc=ssrc)
        packet.payload = payload
        packet.marker = int(i == len(payloads) - 1)
        packets.append(packet)
    return packets


async def started_sender(
    track: ForwardTrack, transport: FakeTransport, codec: RTCRtpCodecParameters = VP8
) -> RTCRtpSender:
    sender = RTCRtpSender(track.kind, transport)  # type: ignore[arg-type]
    attach_forward_track(sender, track, codec)
    # What RTCPeerConnection does once DTLS is up.
    await sender.send(RTCRtpSendParameters(codecs=[codec], muxId="1", rtcp=RTCRtcpParameters(cname="relay")))
    return sender


async def subscribed_sender(publication: Publication) -> tuple[FakeTransport, RTCRtpSender]:
    """A relay sender (and the transport it sends on) forwarding `publication`."""
    out = FakeTransport()
    track = ForwardTrack("video")
    sender = await started_sender(track, out)
    track.switch(publication)
    return out, sender


async def publishing_receiver(transport: FakeTransport) -> tuple[RTCRtpReceiver, Publication]:
    receiver = RTCRtpReceiver("video", transport)  # type: ignore[arg-type]
    receiver._track = RemoteStreamTrack(kind="video")
    receiver._set_rtcp_ssrc(42)
    publication = Publication("ana", "video", receiver)
    await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
    return receiver, publication


def rtp_sent(transport: FakeTransport) -> list[RtpPacket]:
    return [RtpPacket.parse(data) for data in transport.sent if not 192 <= data[1] <= 223]


async def test_packets_are_forwarded_as_they_arrive_from_a_key_frame_on_and_the_decoder_thread_idles() -> None:
    receiver, publication = await publishing_receiver(FakeTransport())
    out, sender = await subscribed_sender(publication)
    try:
        delta = vp8_packets(1234, 100, 3000, keyframe=False)
        key = vp8_packets(1234, 100 + len(delta), 6000, keyframe=True)
        for packet in delta + key[:1]:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        # Nothing before the key frame; its first packet is on the wire before the rest of the frame has arrived.
        sent = rtp_sent(out)
        assert [p.payload for p in sent] == [key[0].payload]
        for packet in key[1:]:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        sent = rtp_sent(out)
        assert [p.payload for p in sent] == [p.payload for p in key]
        assert {(p.ssrc, p.payload_type) for p in sent} == {(sender._ssrc, 97)}
        assert [p.marker for p in sent] == [p.marker for p in key]
        assert all(p.sequence_number == (sent[0].sequence_number + i) % 65536 for i, p in enumerate(sent))
        assert sender.getStats is not None and sender._RTCRtpSender__packet_count == len(key)  # type: ignore[attr-defined]
        assert [t.name for t in threading.enumerate()].count("video-decoder") == 1  # started, fed nothing
        assert publication.frames == 0  # no frame is assembled on the relay's path
    finally:
        await receiver.stop()
        await sender.stop()


async def test_aiortcs_own_handling_of_a_forwarded_packet_follows_shortly_after() -> None:
    transport = FakeTransport()
    receiver, publication = await publishing_receiver(transport)
    out, sender = await subscribed_sender(publication)
    try:
        packets = vp8_packets(1234, 100, 3000, keyframe=True)
        for packet in packets[:1] + packets[2:]:  # the second packet is lost
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert len(rtp_sent(out)) == len(packets) - 1  # forwarded at once
        assert not receiver.getSynchronizationSources()  # statistics, NACKs, ... not yet
        await asyncio.sleep(0.05)
        assert [s.source for s in receiver.getSynchronizationSources()] == [1234]
        nacks = [data for data in transport.sent if data[1] == 205 and data[0] & 0x1F == RTCP_RTPFB_NACK]
        assert len(nacks) == 1  # the lost packet is asked for from the source
    finally:
        await receiver.stop()
        await sender.stop()


async def test_a_source_switch_continues_sequence_numbers_and_timestamps_after_the_new_sources_key_frame() -> None:
    ana_receiver, ana = await publishing_receiver(FakeTransport())
    ben_receiver, ben = await publishing_receiver(FakeTransport())
    out = FakeTransport()
    track = ForwardTrack("video")
    sender = await started_sender(track, out)
    track.switch(ana)
    try:
        for packet in vp8_packets(1, 65534, 90_000, keyframe=True):  # wraps around 65535
            await ana_receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        before = rtp_sent(out)
        track.switch(ben)
        ben_delta = vp8_packets(2, 7000, 500, keyframe=False)
        ben_key = vp8_packets(2, 7000 + len(ben_delta), 3500, keyframe=True)
        for packet in ben_delta + ben_key:
            await ben_receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        # ana's packets arriving after the switch are not forwarded any more
        for packet in vp8_packets(1, 65534 + len(before), 93_000, keyframe=False):
            await ana_receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        after = rtp_sent(out)[len(before) :]
        assert [p.payload for p in after] == [p.payload for p in ben_key]
        sequence = [p.sequence_number for p in before + after]
        assert sequence == [(sequence[0] + i) % 65536 for i in range(len(sequence))]
        assert all(p.timestamp == (before[0].timestamp + 3000) % (1 << 32) for p in after)
        assert {p.ssrc for p in before + after} == {sender._ssrc}
    finally:
        await ana_receiver.stop()
        await ben_receiver.stop()
        await sender.stop()


async def test_a_receivers_nack_is_answered_from_the_forwarded_packets() -> None:
    receiver, publication = await publishing_receiver(FakeTransport())
    out = FakeTransport()
    track = ForwardTrack("video")
    rtx = RTCRtpCodecParameters(mimeType="video/rtx", clockRate=90000, payloadType=98, parameters={"apt": 97})
    sender = RTCRtpSender("video", out)  # type: ignore[arg-type]
    attach_forward_track(sender, track, VP8)
    await sender.send(RTCRtpSendParameters(codecs=[VP8, rtx], muxId="1", rtcp=RTCRtcpParameters(cname="relay")))
    track.switch(publication)
    try:
        for packet in vp8_packets(1234, 10, 0, keyframe=True):
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        lost = rtp_sent(out)[1]
        await sender._handle_rtcp_packet(
            RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=sender._ssrc, lost=[lost.sequence_number])
        )
        resent = rtp_sent(out)[-1]
        assert resent.payload_type == 98 and resent.payload[2:] == lost.payload  # RTX: original seq, then payload
        assert int.from_bytes(resent.payload[:2], "big") == lost.sequence_number
    finally:
        await receiver.stop()
        await sender.stop()


async def test_a_key_frame_request_from_a_relay_sender_becomes_a_pli_to_the_source() -> None:
    transport = FakeTransport()
    receiver, publication = await publishing_receiver(transport)
    packet = RtpPacket(payload_type=97, sequence_number=1, timestamp=0, ssrc=777)
    packet.payload = b"\x90\x80\x01\x01"
    await receiver._handle_rtp_packet(packet, arrival_time_ms=0)  # the source's SSRC becomes known

    sender = RTCRtpSender("video", FakeTransport())  # type: ignore[arg-type]
    track = ForwardTrack("video")
    attach_forward_track(sender, track, VP8)
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


async def test_a_sender_forwards_without_ever_making_an_encoder(monkeypatch) -> None:
    import aiortc.rtcrtpsender

    def no_encoder(codec: object) -> None:
        raise AssertionError("get_encoder called")

    monkeypatch.setattr(aiortc.rtcrtpsender, "get_encoder", no_encoder)
    receiver, publication = await publishing_receiver(FakeTransport())
    out, sender = await subscribed_sender(publication)
    try:
        packets = vp8_packets(1234, 0, 0, keyframe=True)
        for packet in packets:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        await asyncio.sleep(0.05)  # the sender's own RTP loop has run (and waits on the track, which yields nothing)
        assert len(rtp_sent(out)) == len(packets) == 3
        assert isinstance(sender._RTCRtpSender__encoder, ForwardingPacker)  # type: ignore[attr-defined]
    finally:
        await receiver.stop()
        await sender.stop()


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
        # The source's first packet: the request waiting for it goes out now, addressed to it.
        packet.payload = b"\x90\x80\x01\x01"
        await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        await asyncio.sleep(0.05)
        plis = [data for data in transport.sent if data[1] == 206 and data[0] & 0x1F == RTCP_PSFB_PLI]
        assert [int.from_bytes(data[8:12], "big") for data in plis] == [777]
    finally:
        await receiver.stop()
