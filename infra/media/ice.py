"""ICE settings for the relay's peer connections.

aioice gathers host candidates from every interface except loopback and offers no option to change that, so the
relay's advertised addresses are applied by replacing `aioice.ice.get_host_addresses` (pinned, see
tests/unit/media/test_aiortc_internals.py). aiortc falls back to a public STUN server when given no ICE servers, so
the configuration always passes an explicit list, possibly empty.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

import aioice.ice
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCPeerConnection

# A relay socket carries a participant's whole media: with the default receive buffer (~200 kB, ~90 datagrams) a
# few hundred milliseconds without the CPU on a busy machine overflow it, and every lost packet costs a
# retransmission or a key frame, which adds load. Linux doubles the value asked for and caps it at rmem_max.
RECEIVE_BUFFER = 1 << 20

_discover = aioice.ice.get_host_addresses


@dataclass(frozen=True)
class IceServer:
    urls: list[str]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class IceSettings:
    # Addresses to offer as host candidates; empty means every non-loopback interface address (aioice's default).
    host_addresses: list[str] = field(default_factory=list)
    servers: list[IceServer] = field(default_factory=list)


def use_host_addresses(addresses: Sequence[str]) -> None:
    """Offer exactly `addresses` as host candidates in this process (empty restores aioice's discovery)."""
    chosen = list(addresses)
    if not chosen:
        aioice.ice.get_host_addresses = _discover
        return

    def configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = configured


def rtc_configuration(servers: Sequence[IceServer]) -> RTCConfiguration:
    # max-bundle: with aiortc's "balanced" policy a second video m-line in a first offer is given the first video
    # m-line's own transport, which BUNDLE then discards, leaving that stream unsent. Browsers always bundle.
    return RTCConfiguration(
        iceServers=[RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in servers],
        bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
    )


def enlarge_receive_buffers(pc: RTCPeerConnection, size: int = RECEIVE_BUFFER) -> None:
    """Give the UDP sockets `pc` has gathered so far a receive buffer of `size` bytes (best effort)."""
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        for protocol in ice._connection._protocols:
            sock = protocol.transport.get_extra_info("socket") if protocol.transport else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
