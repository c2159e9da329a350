"""`hearth relay` as its own process, reached through `RemoteRelay`; its codecs are booby-trapped
(tests/support/codec_guard.py), so this also shows the relay never makes a decoder or an encoder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection

from domain.media.relay import ROOM_LIMIT, RoomFull
from infra.media.ice import use_host_addresses
from infra.media.remote import RemoteRelay
from tests.support.media_peers import Peer, wait_until
from tests.support.processes import free_port

SECRET = "relay-test-secret"


@pytest.fixture
def relay_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "codecs.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(HEARTH_RELAY_SECRET=SECRET, HEARTH_RELAY_HOST_ADDRESSES='["127.0.0.1"]', HEARTH_LOG_LEVEL="WARNING")
    out = (tmp_path / "relay.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.codec_guard", str(log), "relay", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError((tmp_path / "relay.out").read_text())
        time.sleep(0.1)
    try:
        yield url, log
    finally:
        process.terminate()
        process.wait(10)
        out.close()


@pytest.fixture
async def remote(relay_process: tuple[str, Path]) -> AsyncIterator[RemoteRelay]:
    use_host_addresses(["127.0.0.1"])  # for the peers in this process
    remote = RemoteRelay(relay_process[0], SECRET)
    yield remote
    await remote.close()


async def test_three_participants_through_hearth_relay_and_no_codec_in_the_relay(
    remote: RemoteRelay, relay_process: tuple[str, Path]
) -> None:
    levels = {"ana": 40, "ben": 120, "cy": 200}
    peers: list[Peer] = []
    try:
        for name, level in levels.items():
            peers.append(Peer(remote, "call", name, level))
            for peer in reversed(peers):  # the newcomer, then everyone else renegotiates
                await peer.connect(others=len(peers) - 1)

        def everyone() -> bool:
            return all(
                peer.video_from(o.name).frames >= 10 and peer.audio_from(o.name).frames >= 10
                for peer in peers
                for o in peers
                if o is not peer
            )

        await wait_until(everyone, timeout=20)
        for peer in peers:
            for other in peers:
                if other is not peer:
                    assert all(abs(v - other.level) < 12 for v in peer.video_from(other.name).levels)
        assert await remote.participants("call") == ["ana", "ben", "cy"]
        await remote.leave("call", "cy")
        assert await remote.participants("call") == ["ana", "ben"]
        await remote.close_room("call")
        assert await remote.participants("call") == []
    finally:
        for peer in peers:
            await peer.close()
    # The guard worked (its self-check) and nothing in the relay asked for a codec.
    assert relay_process[1].read_text().splitlines() == ["self-check"]


async def test_room_limit_and_authentication_over_http(remote: RemoteRelay, relay_process: tuple[str, Path]) -> None:
    url = relay_process[0]
    pcs = []
    try:
        for i in range(ROOM_LIMIT + 1):
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
            pc.addTransceiver("audio", direction="sendonly")
            await pc.setLocalDescription(await pc.createOffer())
            pcs.append(pc)
            if i < ROOM_LIMIT:
                await remote.negotiate("full", f"p{i}", pc.localDescription.sdp)
        with pytest.raises(RoomFull):
            await remote.negotiate("full", "extra", pcs[-1].localDescription.sdp)
    finally:
        for pc in pcs:
            await pc.close()
    async with httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/rooms/full/participants")).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert (await http.delete("/rooms/full", headers=wrong)).status_code == 401
        ok = {"authorization": f"Bearer {SECRET}"}
        bad = await http.post("/rooms/full/participants/x/negotiate", content=b"{", headers=ok)
        assert (bad.status_code, bad.json()) == (422, {"code": "invalid_body"})
        assert (
            await http.post("/rooms/full/participants/x/negotiate", json={"sdp": "v=0"}, headers=ok)
        ).status_code in (
            409,
            422,
        )
    await remote.close_room("full")
    assert await remote.participants("full") == []
