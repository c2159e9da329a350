"""Key-encryption keys (KEKs) for payload encryption. They come from settings and never enter the database.

Several KEKs may be configured, by id, so data wrapped under an older one still opens after a rotation;
exactly one is current (new data keys and `rewrap` use it). In development and tests, when none is
configured, one is generated once into the data directory; production refuses to start without one.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from domain.shared.cipher import CipherError
from infra.settings import Settings

KEK_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
DEV_KEYRING_FILE = Path("keys") / "payload-keks.json"


class KeyringError(RuntimeError):
    """The key-encryption keys are misconfigured; Hearth must not start. Never contains key material."""


class Keyring:
    """KEKs by id plus the id of the current one. Immutable; build a new one to change it."""

    __slots__ = ("_current", "_keys")

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if not keys:
            raise KeyringError("A keyring needs at least one key-encryption key.")
        for kek_id, key in keys.items():
            if not KEY_ID_PATTERN.fullmatch(kek_id):
                raise KeyringError(f"Key-encryption key id {kek_id!r} must match {KEY_ID_PATTERN.pattern}.")
            if not isinstance(key, bytes) or len(key) != KEK_BYTES:
                raise KeyringError(f"Key-encryption key {kek_id!r} must be exactly {KEK_BYTES} bytes.")
        if current not in keys:
            raise KeyringError(
                f"The current key-encryption key {current!r} is not among the configured ids {sorted(keys)}."
            )
        self._keys = dict(keys)
        self._current = current

    @property
    def current_id(self) -> str:
        return self._current

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def __contains__(self, kek_id: object) -> bool:
        return kek_id in self._keys

    def key(self, kek_id: str) -> bytes:
        try:
            return self._keys[kek_id]
        except KeyError:
            raise CipherError(
                f"The data key is wrapped under key-encryption key {kek_id!r}, which is not configured "
                f"(configured: {', '.join(self.ids)}). Add it to HEARTH_PAYLOAD_KEKS to open this data.",
                reason="unknown_key",
            ) from None

    def __repr__(self) -> str:
        return f"Keyring(ids={list(self.ids)!r}, current={self._current!r})"


def generate_key() -> str:
    """A new KEK, base64-encoded, for HEARTH_PAYLOAD_KEKS."""
    return base64.b64encode(secrets.token_bytes(KEK_BYTES)).decode()


def decode_key(text: str, kek_id: str) -> bytes:
    """32 bytes from 64 hex digits or base64 (standard or URL-safe, padding optional)."""
    value = text.strip()
    try:
        if len(value) == 2 * KEK_BYTES and all(c in "0123456789abcdefABCDEF" for c in value):
            key = bytes.fromhex(value)
        else:
            padded = value + "=" * (-len(value) % 4)
            alphabet = b"-_" if ("-" in value or "_" in value) else b"+/"
            key = base64.b64decode(padded, altchars=alphabet, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"Key-encryption key {kek_id!r} is neither hex nor base64.") from None
    if len(key) != KEK_BYTES:
        raise KeyringError(f"Key-encryption key {kek_id!r} decodes to {len(key)} bytes; it must be {KEK_BYTES}.")
    return key


def parse_keys(mapping: object, source: str) -> dict[str, bytes]:
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise KeyringError(f"{source} must be a JSON object mapping key ids to base64 or hex keys.")
    return {kek_id: decode_key(text, kek_id) for kek_id, text in mapping.items()}


def load_keys_file(path: Path) -> dict[str, bytes]:
    try:
        mapping = json.loads(path.read_text())
    except OSError as exc:
        raise KeyringError(f"Cannot read the key-encryption keys file {path}: {exc.strerror}.") from None
    except ValueError:
        raise KeyringError(f"The key-encryption keys file {path} is not valid JSON.") from None
    return parse_keys(mapping, str(path))


def ensure_dev_keyring(path: Path) -> Keyring:
    """Development only: make a KEK on first run and keep it in the data directory (same format as
    HEARTH_PAYLOAD_KEKS_FILE, so it can be configured explicitly later)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        content = json.dumps({f"dev-{secrets.token_hex(4)}": generate_key()}, indent=2) + "\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; use theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(content)
    keys = load_keys_file(path)
    if len(keys) != 1:
        raise KeyringError(f"The development keys file {path} must hold exactly one key.")
    return Keyring(keys, next(iter(keys)))


def keyring_from_settings(settings: Settings) -> Keyring:
    """The KEKs to run with. Raises KeyringError (refuse to start) when they are missing in production
    or misconfigured anywhere."""
    keys = parse_keys(
        {kek_id: secret.get_secret_value() for kek_id, secret in settings.payload_keks.items()},
        "HEARTH_PAYLOAD_KEKS",
    )
    if settings.payload_keks_file is not None:
        for kek_id, key in load_keys_file(settings.payload_keks_file).items():
            if kek_id in keys and keys[kek_id] != key:
                raise KeyringError(
                    f"Key-encryption key {kek_id!r} has different values in HEARTH_PAYLOAD_KEKS and "
                    "HEARTH_PAYLOAD_KEKS_FILE."
                )
            keys[kek_id] = key
    current = settings.payload_kek_current
    if not keys:
        if current is not None:
            raise KeyringError(
                f"HEARTH_PAYLOAD_KEK_CURRENT names {current!r}, but no key-encryption key is configured."
            )
        if settings.env == "production":
            raise KeyringError(
                "No key-encryption key is configured: set HEARTH_PAYLOAD_KEKS (or HEARTH_PAYLOAD_KEKS_FILE) to "
                '{"<key id>": "<32 random bytes, base64>"} in production. `hearth keys generate kek` prints one; '
                "keep it outside the database and its backups."
            )
        return ensure_dev_keyring(settings.data_dir / DEV_KEYRING_FILE)
    if current is None:
        if len(keys) > 1:
            raise KeyringError(
                f"Several key-encryption keys are configured ({', '.join(sorted(keys))}); set "
                "HEARTH_PAYLOAD_KEK_CURRENT to the newest one."
            )
        current = next(iter(keys))
    if current not in keys:
        raise KeyringError(
            f"HEARTH_PAYLOAD_KEK_CURRENT names {current!r}, which is not among the configured ids "
            f"({', '.join(sorted(keys))})."
        )
    return Keyring(keys, current)
