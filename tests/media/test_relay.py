"""The forwarding relay with real aiortc peers on loopback (in a private network namespace)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from infra.media.forwarding_relay import ForwardingRelay
from infra.media.ice import IceSettings
from tests.support.media_peers import Peer, wait_until

LEVELS = {"ana": 40, "ben": 120, "cy": 200}


@pytest.fixture
async def relay() -> AsyncIterator[ForwardingRelay]:
    relay = ForwardingRelay(IceSettings(host_addresses=["127.0.0.1"]))
    yield relay
    await relay.close()


async def join_all(relay: ForwardingRelay, names: list[str], room: str = "r1") -> list[Peer]:
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
