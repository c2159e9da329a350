"""How `hearth serve` and `hearth relay` pick and configure the relay from settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from api.bootstrap import build_media_relay, build_relay_app, load_settings, relay_ice_settings
from infra.media.forwarding_relay import ForwardingRelay
from infra.media.remote import RemoteRelay
from infra.media.threaded import ThreadedRelay


async def test_in_process_by_default_and_remote_when_a_url_is_set() -> None:
    local = build_media_relay(load_settings(relay_host_addresses=["127.0.0.1"]))
    assert isinstance(local, ThreadedRelay) and isinstance(local._relay, ForwardingRelay)
    assert await local.participants("nobody") == []
    await local.close()
    assert not local._thread.is_alive()
    remote = build_media_relay(load_settings(relay_url="http://relay:8800", relay_secret="s"))
    assert isinstance(remote, RemoteRelay)
    await remote.close()
    with pytest.raises(ValueError, match="HEARTH_RELAY_SECRET"):
        build_media_relay(load_settings(relay_url="http://relay:8800"))


def test_ice_servers_are_explicit_and_turn_gets_its_credentials() -> None:
    assert relay_ice_settings(load_settings()).servers == []
    ice = relay_ice_settings(
        load_settings(
            relay_ice_servers=["stun:stun.internal:3478", "turn:turn.internal:3478?transport=udp"],
            relay_turn_username="hearth",
            relay_turn_credential="pw",
            relay_host_addresses=["10.1.2.3"],
        )
    )
    assert [(s.urls, s.username, s.credential) for s in ice.servers] == [
        (["stun:stun.internal:3478"], None, None),
        (["turn:turn.internal:3478?transport=udp"], "hearth", "pw"),
    ]
    assert ice.host_addresses == ["10.1.2.3"]


def test_hearth_relay_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ValueError):
        build_relay_app(load_settings())
    env = {"PATH": "/usr/bin:/bin", "HEARTH_RELAY_SECRET": ""}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "relay", "--port", "1"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "HEARTH_RELAY_SECRET" in result.stderr
