"""A `hearth relay` that is down or failing is a `relay_unavailable` problem, not an exception that closes the
caller's socket with 1011."""

from __future__ import annotations

import httpx
import pytest

from domain.media.relay import RelayUnavailable, RoomFull
from infra.media.remote import RemoteRelay


def _relay(handler) -> RemoteRelay:
    return RemoteRelay("http://relay.internal:8800", "s3cret", transport=httpx.MockTransport(handler))


def _down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _failing(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"code": "internal_error"})


@pytest.mark.parametrize("handler", [_down, _failing], ids=["down", "failing"])
async def test_every_call_to_an_unavailable_relay_raises_relay_unavailable(handler):
    relay = _relay(handler)
    calls = [
        relay.negotiate("room-1", "ana", "v=0\r\n"),
        relay.leave("room-1", "ana"),
        relay.close_room("room-1"),
        relay.participants("room-1"),
    ]
    for call in calls:
        with pytest.raises(RelayUnavailable) as caught:
            await call
        assert caught.value.code == "relay_unavailable"
    await relay.close()


async def test_the_relays_own_refusals_keep_their_meaning():
    def full(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"code": "room_full"})

    relay = _relay(full)
    with pytest.raises(RoomFull):
        await relay.negotiate("room-1", "ana", "v=0\r\n")
    await relay.close()
