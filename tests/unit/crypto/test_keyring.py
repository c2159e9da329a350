"""Key-encryption keys from settings: decoding, validation, development keys, production refusal."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from domain.shared.cipher import CipherError
from infra.crypto.keyring import (
    DEV_KEYRING_FILE,
    Keyring,
    KeyringError,
    decode_key,
    generate_key,
    keyring_from_settings,
)
from infra.settings import Settings

KEK = bytes(range(32))


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"env": "development", "data_dir": tmp_path / "data"}
    if overrides.get("env") == "production":
        values.update(
            database_url="postgresql://h/db",
            jwt_private_key_file=tmp_path / "jwt.pem",
            allow_console_backends=["email", "sms", "telephony"],  # beside the point here
        )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        KEK.hex(),
        KEK.hex().upper(),
        base64.b64encode(KEK).decode(),
        base64.b64encode(KEK).decode().rstrip("="),
        base64.urlsafe_b64encode(KEK).decode(),
        f"  {base64.b64encode(KEK).decode()}\n",
    ],
)
def test_keys_decode_from_hex_or_base64(text):
    assert decode_key(text, "k1") == KEK


@pytest.mark.parametrize(
    "text",
    ["", "not a key!", KEK.hex()[:-2], base64.b64encode(KEK + b"x").decode(), base64.b64encode(KEK[:16]).decode()],
)
def test_bad_keys_are_refused_without_echoing_them(text):
    with pytest.raises(KeyringError, match="'k1'") as caught:
        decode_key(text, "k1")
    if text:
        assert text not in str(caught.value)


def test_generated_keys_decode():
    assert len(decode_key(generate_key(), "new")) == 32
    assert generate_key() != generate_key()


@pytest.mark.parametrize(
    ("keys", "current"),
    [({}, "a"), ({"a": KEK}, "b"), ({"a": KEK[:31]}, "a"), ({"a|b": KEK}, "a|b"), ({"a": "text"}, "a")],
)
def test_keyring_validates(keys, current):
    with pytest.raises(KeyringError):
        Keyring(keys, current)


def test_keyring_lookup_and_repr():
    ring = Keyring({"old": KEK, "new": os.urandom(32)}, "new")
    assert ring.current_id == "new" and ring.ids == ("new", "old") and "old" in ring
    assert ring.key("old") == KEK
    with pytest.raises(CipherError, match="'gone', which is not configured") as caught:
        ring.key("gone")
    assert caught.value.reason == "unknown_key"
    assert KEK.hex() not in repr(ring) and repr(KEK) not in repr(ring)


def test_production_without_a_kek_refuses_to_start(tmp_path):
    with pytest.raises(KeyringError, match="HEARTH_PAYLOAD_KEKS") as caught:
        keyring_from_settings(make_settings(tmp_path, env="production"))
    assert "production" in str(caught.value)
    assert not (tmp_path / "data" / DEV_KEYRING_FILE).exists()


def test_production_with_a_kek_starts(tmp_path):
    ring = keyring_from_settings(make_settings(tmp_path, env="production", payload_keks={"2025-01": KEK.hex()}))
    assert ring.current_id == "2025-01" and ring.key("2025-01") == KEK


def test_development_generates_one_kek_and_keeps_it(tmp_path):
    settings = make_settings(tmp_path)
    first = keyring_from_settings(settings)
    path = settings.data_dir / DEV_KEYRING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.current_id.startswith("dev-") and len(first.ids) == 1
    second = keyring_from_settings(settings)
    assert second.current_id == first.current_id and second.key(second.current_id) == first.key(first.current_id)
    # The generated file is in HEARTH_PAYLOAD_KEKS_FILE form, so it can be configured explicitly later.
    explicit = keyring_from_settings(make_settings(tmp_path, env="production", payload_keks_file=path))
    assert explicit.key(first.current_id) == first.key(first.current_id)


def test_configured_keys_replace_the_development_key(tmp_path):
    ring = keyring_from_settings(make_settings(tmp_path, env="test", payload_keks={"k1": KEK.hex()}))
    assert ring.ids == ("k1",)
    assert not (tmp_path / "data" / DEV_KEYRING_FILE).exists()


def test_several_keys_need_a_current_one(tmp_path):
    keks = {"2024": base64.b64encode(os.urandom(32)).decode(), "2025": KEK.hex()}
    with pytest.raises(KeyringError, match="HEARTH_PAYLOAD_KEK_CURRENT"):
        keyring_from_settings(make_settings(tmp_path, payload_keks=keks))
    with pytest.raises(KeyringError, match="'2026', which is not among"):
        keyring_from_settings(make_settings(tmp_path, payload_keks=keks, payload_kek_current="2026"))
    with pytest.raises(KeyringError, match="no key-encryption key is configured"):
        keyring_from_settings(make_settings(tmp_path, payload_kek_current="2026"))
    ring = keyring_from_settings(make_settings(tmp_path, payload_keks=keks, payload_kek_current="2025"))
    assert ring.current_id == "2025" and ring.ids == ("2024", "2025")


def test_keys_file_merges_with_the_environment(tmp_path):
    path = tmp_path / "keks.json"
    path.write_text(json.dumps({"2024": base64.b64encode(KEK).decode()}))
    ring = keyring_from_settings(
        make_settings(
            tmp_path, payload_keks={"2025": generate_key()}, payload_keks_file=path, payload_kek_current="2025"
        )
    )
    assert ring.ids == ("2024", "2025") and ring.key("2024") == KEK

    with pytest.raises(KeyringError, match="different values"):
        keyring_from_settings(make_settings(tmp_path, payload_keks={"2024": generate_key()}, payload_keks_file=path))
    path.write_text("[1, 2]")
    with pytest.raises(KeyringError, match="JSON object"):
        keyring_from_settings(make_settings(tmp_path, payload_keks_file=path))
    path.write_text("{not json")
    with pytest.raises(KeyringError, match="not valid JSON"):
        keyring_from_settings(make_settings(tmp_path, payload_keks_file=path))
    with pytest.raises(KeyringError, match="Cannot read"):
        keyring_from_settings(make_settings(tmp_path, payload_keks_file=tmp_path / "missing.json"))


def test_settings_read_keks_from_the_environment_and_never_print_them(tmp_path, monkeypatch):
    secret = base64.b64encode(KEK).decode()
    monkeypatch.setenv("HEARTH_PAYLOAD_KEKS", json.dumps({"2025-01": secret}))
    monkeypatch.setenv("HEARTH_PAYLOAD_KEY_CACHE_SIZE", "16")
    settings = Settings(data_dir=tmp_path)
    assert settings.payload_key_cache_size == 16
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    assert keyring_from_settings(settings).key("2025-01") == KEK
