"""The forwarding relay with real aiortc peers on loopback (in a private network namespace)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

from api.bootstrap import build_media_relay, load_settings
from domain.media.relay import ROOM_LIMIT, MediaRelay, RoomFull
from domain.shared.errors import ValidationFailed
from infra.media.forwarding_relay import ForwardingRelay
from infra.media.ice import RECEIVE_BUFFER, IceSettings
from infra.media.threaded import ThreadedRelay
from tests.support.media_peers import Peer, wait_until

LEVELS = {"ana": 40, "ben": 120, "cy": 200}


@pytest.fixture
async def relay() -> AsyncIterator[ForwardingRelay]:
    relay = ForwardingRelay(IceSettings(host_addresses=["127.0.0.1"]))
    yield relay
    await relay.close()


async def join_all(relay: MediaRelay, names: list[str], room: str = "r1") -> list[Peer]:
    peers: list[Peer] = []
    for name in names:
        peer = Peer(relay, room, name, LEVELS[name])
        peers.append(peer)
        await peer.connect(others=len(peers) - 1)
        # The session service would now tell everyone else to renegotiate with a slot for the newcomer.
        for earlier in peers[:-1]:
            await earlier.connect(others=len(peers) - 1)
    return peers


def receives_everyone(peers: list[Peer], frames: int = 10) -> bool:
    for peer in peers:
        for other in peers:
            if other is peer:
                continue
            if peer.video_from(other.name).frames < frames or peer.audio_from(other.name).frames < frames:
                return False
    return True


async def test_two_participants_receive_each_others_audio_and_video(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben"])
    try:
        await wait_until(lambda: receives_everyone(peers), timeout=15)
        for peer in peers:
            for other in peers:
                if other is not peer:
                    seen = peer.video_from(other.name)
                    # Every picture decoded, from the first (which needs a key frame), is the other's (its
                    # brightness), not garbage or someone else's.
                    assert all(abs(level - other.level) < 12 for level in seen.levels), seen.levels
        assert await relay.participants("r1") == ["ana", "ben"]
    finally:
        for peer in peers:
            await peer.close()


async def test_the_relay_hearth_serve_builds_runs_on_its_own_thread_and_forwards() -> None:
    relay = build_media_relay(load_settings(relay_host_addresses=["127.0.0.1"]))
    assert isinstance(relay, ThreadedRelay)
    peers = []
    try:
        peers = await join_all(relay, ["ana", "ben"])  # type: ignore[arg-type]
        await wait_until(lambda: receives_everyone(peers), timeout=15)
        with pytest.raises(RoomFull):
            for i in range(ROOM_LIMIT):
                await relay.negotiate("r1", f"extra{i}", peers[0].pc.localDescription.sdp)
    finally:
        for peer in peers:
            await peer.close()
        await relay.close()


async def test_three_participants_receive_each_others_audio_and_video(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben", "cy"])
    try:
        await wait_until(lambda: receives_everyone(peers), timeout=20)
        for peer in peers:
            assert sorted(set(peer.streams.values())) == sorted(p.name for p in peers if p is not peer)
            for other in peers:
                if other is not peer:
                    levels = peer.video_from(other.name).levels
                    assert abs(sum(levels[-5:]) / 5 - other.level) < 12
    finally:
        for peer in peers:
            await peer.close()


async def test_h264_is_forwarded_when_the_participants_offer_only_h264(relay: ForwardingRelay) -> None:
    ana = Peer(relay, "h", "ana", LEVELS["ana"], video_mime="video/H264")
    ben = Peer(relay, "h", "ben", LEVELS["ben"], video_mime="video/H264")
    peers = [ana, ben]
    try:
        await ana.connect(others=0)
        await ben.connect(others=1)
        await ana.connect(others=1)
        assert relay._rooms["h"].video_codec == "H264"
        await wait_until(lambda: receives_everyone(peers), timeout=15)
        for peer, other in ((ana, ben), (ben, ana)):
            assert all(abs(level - other.level) < 12 for level in peer.video_from(other.name).levels)
    finally:
        for peer in peers:
            await peer.close()


async def test_a_late_joiner_gets_a_key_frame_within_a_second(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben"])
    try:
        await wait_until(lambda: receives_everyone(peers), timeout=15)
        await asyncio.sleep(1.0)  # the sources are long past their first key frame (aiortc's VP8 GOP is 3000)
        joined = time.monotonic()
        cy = Peer(relay, "r1", "cy", LEVELS["cy"])
        peers.append(cy)
        await cy.connect(others=2)
        await wait_until(lambda: cy.video_from("ana").frames > 0 and cy.video_from("ben").frames > 0, timeout=5)
        for source in ("ana", "ben"):
            seen = cy.video_from(source)
            assert seen.first_at is not None and seen.first_at - joined < 1.0, seen.first_at - joined
            assert abs(seen.levels[0] - LEVELS[source]) < 12  # the first picture decodes: it was a key frame
        # It came from the source on request (the relay asked as cy subscribed), not by chance.
        for source in peers[:2]:
            assert any(t > joined for t in source.keyframe_requests)
    finally:
        for peer in peers:
            await peer.close()


async def test_the_relays_sockets_get_a_large_receive_buffer(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben"])
    try:
        for member in relay._rooms["r1"].members.values():
            sockets = [
                p.transport.get_extra_info("socket")
                for t in member.pc.getTransceivers()
                for p in t.receiver.transport.transport._connection._protocols
            ]
            assert sockets
            # Linux reports twice what was set; the default is about 200 kB.
            assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= RECEIVE_BUFFER for s in sockets)
    finally:
        for peer in peers:
            await peer.close()


async def test_a_receivers_picture_loss_indication_reaches_the_source(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben"])
    ana, ben = peers
    try:
        await wait_until(lambda: receives_everyone(peers), timeout=15)
        await asyncio.sleep(0.3)
        before = len(ana.keyframe_requests)
        receiver = next(
            t.receiver for t in ben.pc.getTransceivers() if t.kind == "video" and ben.streams.get(t.mid or "") == "ana"
        )
        ssrc = receiver.getSynchronizationSources()[0].source
        await receiver._send_rtcp_pli(ssrc)  # what a browser's decoder does when it loses the picture
        await wait_until(lambda: len(ana.keyframe_requests) > before, timeout=2)
    finally:
        for peer in peers:
            await peer.close()


async def bare_offer() -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    pc.addTransceiver("audio", direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_a_room_holds_eight_and_refuses_the_ninth(relay: ForwardingRelay) -> None:
    pcs = []
    try:
        for i in range(ROOM_LIMIT):
            pc, sdp = await bare_offer()
            pcs.append(pc)
            await relay.negotiate("big", f"p{i}", sdp)
        pc, sdp = await bare_offer()
        pcs.append(pc)
        with pytest.raises(RoomFull):
            await relay.negotiate("big", "p8", sdp)
        assert await relay.participants("big") == [f"p{i}" for i in range(ROOM_LIMIT)]
        # A member may still renegotiate in a full room; once someone leaves, the ninth gets in.
        await relay.negotiate("big", "p0", pcs[0].localDescription.sdp)
        await relay.leave("big", "p3")
        await relay.negotiate("big", "p8", sdp)
        assert len(await relay.participants("big")) == ROOM_LIMIT
    finally:
        for pc in pcs:
            await pc.close()


async def test_rooms_are_cleaned_up_when_empty_closed_or_disconnected(relay: ForwardingRelay) -> None:
    peers = await join_all(relay, ["ana", "ben"])
    ana, ben = peers
    await wait_until(lambda: receives_everyone(peers), timeout=15)

    # ben's connection goes away without a word: the relay notices and drops him, and his stream to ana ends.
    await ben.close()
    await wait_until(lambda: relay_members(relay, "r1") == ["ana"], timeout=15)
    room = relay._rooms["r1"]
    assert room.members["ana"].subscriptions and all(
        t.source is None for t in room.members["ana"].subscriptions.values()
    )

    await relay.leave("r1", "ana")
    assert relay.rooms() == [] and await relay.participants("r1") == []
    await wait_until(lambda: ana.pc.connectionState in ("closed", "failed"), timeout=15)
    await ana.close()

    # close_room ends everyone's connection at once (the session ended).
    pc1, sdp1 = await bare_offer()
    pc2, sdp2 = await bare_offer()
    await relay.negotiate("r2", "x", sdp1)
    await relay.negotiate("r2", "y", sdp2)
    members = list(relay._rooms["r2"].members.values())
    await relay.close_room("r2")
    assert relay.rooms() == [] and await relay.participants("r2") == []
    assert all(m.pc.connectionState == "closed" for m in members)
    await pc1.close()
    await pc2.close()


async def test_an_offer_without_a_usable_codec_is_rejected_and_leaves_nothing_behind(relay: ForwardingRelay) -> None:
    pc, sdp = await bare_offer()
    opus_only = "\r\n".join(
        line for line in sdp.split("\r\n") if not line.startswith(("a=rtpmap:96", "a=fmtp:96"))
    ).replace(" 96 9 0 8", " 9 0 8")
    with pytest.raises(ValidationFailed) as caught:
        await relay.negotiate("r3", "z", opus_only)
    assert caught.value.code == "relay_offer_rejected"
    assert relay.rooms() == []
    await pc.close()


def relay_members(relay: ForwardingRelay, room: str) -> list[str]:
    found = relay._rooms.get(room)
    return list(found.members) if found else []


async def test_an_offer_with_no_codec_in_common_is_rejected_and_leaves_nothing_behind(relay: ForwardingRelay) -> None:
    # Audio in G.729 only: aiortc itself refuses it (OperationError, not one of its parse errors).
    pc, sdp = await bare_offer()
    lines = sdp.split("\r\n")
    audio = next(i for i, line in enumerate(lines) if line.startswith("m=audio"))
    lines[audio] = " ".join([*lines[audio].split(" ")[:3], "18"])
    g729 = [line for line in lines if not line.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"))]
    g729.insert(audio + 1, "a=rtpmap:18 G729/8000")
    with pytest.raises(ValidationFailed) as caught:
        await relay.negotiate("r4", "z", "\r\n".join(g729))
    assert caught.value.code == "relay_offer_rejected"
    assert relay.rooms() == [] and relay_members(relay, "r4") == []
    await pc.close()
