"""Frame reassembly, key-frame detection and re-packetization in the relay (no network)."""

from __future__ import annotations

import av
import numpy as np
from aiortc.codecs.h264 import h264_depayload
from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtp import RtpPacket

from infra.media.frames import EncodedFrame, ForwardingPacker, FrameAssembler, is_keyframe


def packet(seq: int, timestamp: int, data: bytes, marker: bool = False) -> RtpPacket:
    p = RtpPacket(payload_type=97, marker=int(marker), sequence_number=seq % 65536, timestamp=timestamp)
    p._data = data  # type: ignore[attr-defined]
    return p


def vp8_frames(count: int) -> list[bytes]:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "yuv420p"
    codec.options = {"deadline": "realtime", "lag-in-frames": "0"}
    out: list[bytes] = []
    for i in range(count):
        image = np.full((72, 64), 16 + i * 7, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in codec.encode(frame)]
    return out


def test_a_video_frame_is_released_by_its_marker_packet_not_by_the_next_frame() -> None:
    assembler = FrameAssembler(is_video=True)
    # A first frame may be partial: it is skipped, and a key frame requested in case it was the stream's first.
    assert assembler.add(packet(9, 0, b"tail", marker=True)) == (True, None)
    assert assembler.add(packet(10, 3000, b"ab")) == (False, None)
    pli, frame = assembler.add(packet(11, 3000, b"cd", marker=True))
    assert not pli and frame is not None and (frame.data, frame.timestamp) == (b"abcd", 3000)


def test_reordered_packets_complete_the_frame_when_the_gap_fills() -> None:
    assembler = FrameAssembler(is_video=True)
    assembler.add(packet(65535, 0, b"", marker=True))  # also crosses the sequence wrap
    assert assembler.add(packet(1, 3000, b"2", marker=True)) == (False, None)
    _, frame = assembler.add(packet(0, 3000, b"1"))
    assert frame is not None and frame.data == b"12"


def test_a_lost_packet_gives_up_the_frame_and_asks_for_a_key_frame() -> None:
    assembler = FrameAssembler(is_video=True)
    assembler.add(packet(0, 0, b"", marker=True))
    plis: list[bool] = []
    seq, ts = 2, 3000  # sequence 1 never arrives
    for _ in range(200):
        pli, frame = assembler.add(packet(seq, ts, b"x", marker=True))
        plis.append(pli)
        assert frame is None or plis.count(True) == 1
        seq, ts = seq + 1, ts + 3000
    assert plis.count(True) == 1
    # After the resync, frames flow again.
    _, frame = assembler.add(packet(seq, ts, b"fresh", marker=True))
    assert frame is not None and frame.data == b"fresh"


def test_audio_packets_pass_at_once_and_late_ones_are_dropped() -> None:
    assembler = FrameAssembler(is_video=False)
    assert assembler.add(packet(5, 960, b"a"))[1].data == b"a"  # type: ignore[union-attr]
    assert assembler.add(packet(6, 1920, b"b"))[1].data == b"b"  # type: ignore[union-attr]
    assert assembler.add(packet(4, 0, b"late")) == (False, None)


def test_vp8_key_frames_are_recognised_from_real_libvpx_output() -> None:
    frames = vp8_frames(3)
    assert [is_keyframe("VP8", f) for f in frames] == [True, False, False]


def test_h264_key_frames_are_recognised_by_idr_or_sps() -> None:
    assert is_keyframe("H264", b"\x00\x00\x00\x01\x67abc\x00\x00\x01\x68d\x00\x00\x01\x65e")
    assert not is_keyframe("H264", b"\x00\x00\x00\x01\x41abc")
    assert is_keyframe("opus", b"\x01")


def test_vp8_packing_round_trips_through_aiortcs_depayloader() -> None:
    data = bytes(range(256)) * 20  # larger than one packet
    payloads, timestamp = ForwardingPacker("VP8").pack(EncodedFrame("VP8", data, 123, True))
    assert len(payloads) > 1 and timestamp == 123
    assert b"".join(vp8_depayload(p) for p in payloads) == data


def test_h264_packing_round_trips_through_aiortcs_depayloader() -> None:
    nal_big = b"\x65" + bytes(3000)
    data = b"\x00\x00\x00\x01\x67\x42\x00\x1f" + b"\x00\x00\x00\x01\x68\xce" + b"\x00\x00\x00\x01" + nal_big
    payloads, _ = ForwardingPacker("H264").pack(EncodedFrame("H264", data, 0, True))
    rebuilt = b"".join(h264_depayload(p) for p in payloads)
    assert rebuilt.split(b"\x00\x00\x00\x01")[1:] == [b"\x67\x42\x00\x1f", b"\x68\xce", nal_big]


def test_the_packer_refuses_to_encode() -> None:
    packer = ForwardingPacker("VP8")
    try:
        packer.encode(object())
    except RuntimeError:
        return
    raise AssertionError("encode must refuse")


def test_a_packet_missing_past_a_round_trip_gives_up_the_frame_without_waiting_for_a_full_buffer(monkeypatch) -> None:
    import infra.media.frames as frames

    now = [100.0]
    monkeypatch.setattr(frames.time, "monotonic", lambda: now[0])
    assembler = FrameAssembler(is_video=True)
    assembler.add(packet(0, 0, b"", marker=True))
    assert assembler.add(packet(2, 3000, b"b", marker=True)) == (False, None)  # 1 is missing: wait for the NACK
    now[0] += 0.05
    assert assembler.add(packet(3, 6000, b"c", marker=True)) == (False, None)
    now[0] += 0.2
    assert assembler.add(packet(4, 9000, b"d", marker=True)) == (True, None)  # given up: ask for a key frame
    _, frame = assembler.add(packet(5, 12000, b"e", marker=True))
    assert frame is not None and frame.data == b"e"
