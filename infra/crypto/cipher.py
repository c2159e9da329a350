"""PayloadCipher adapter: envelope encryption with PyNaCl (XChaCha20-Poly1305-IETF, `nacl.secret.Aead`).

Stored payload format, version 1 (41 bytes of overhead):

    0x01 | nonce (24 random bytes) | ciphertext (len(plaintext) bytes) | Poly1305 tag (16 bytes)

sealed under the record group's data key with the associated data `AadContext.render(<data key id>)`,
e.g. `v1|table=notes|row=<uuid>|field=body|key=<data key id>`. The data key id is a keyed BLAKE2b
digest of the data key (16 hex digits): it names the data key, not the KEK, so re-wrapping a data
key under a new KEK leaves every payload valid.

Wrapped data key, version 1: nonce (24) | data key (32) | tag (16), sealed under the KEK with the
associated data `hearth|purpose=payload-data-key|v1|kek=<kek id>`, so a wrapped key presented with
another KEK id does not open.

Unwrapped data keys are cached (bounded LRU keyed by KEK id, wrap version and wrapped bytes) so a
conversation's messages cost one AEAD call each. The hot path calls `nacl.bindings` directly with a
fresh random nonce (the same primitive `nacl.secret.Aead` uses, without its per-call wrapping objects).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import nacl.bindings
import nacl.exceptions
import nacl.secret
import nacl.utils

from domain.shared.cipher import AadContext, CipherError, WrappedDataKey
from infra.crypto.keyring import Keyring

PAYLOAD_VERSION = 1
WRAP_VERSION = 1
DATA_KEY_BYTES = nacl.secret.Aead.KEY_SIZE
NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE
TAG_BYTES = nacl.secret.Aead.MACBYTES
PAYLOAD_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES
WRAPPED_BYTES = NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES

_PREFIX = bytes([PAYLOAD_VERSION])
_ENCRYPT = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
_DECRYPT = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt
_RANDOM = nacl.utils.random


def wrap_aad(kek_id: str) -> bytes:
    return f"hearth|purpose=payload-data-key|v{WRAP_VERSION}|kek={kek_id}".encode()


def data_key_id(data_key: bytes) -> str:
    return hashlib.blake2b(b"hearth payload data key id", key=data_key, digest_size=8).hexdigest()


class NaclPayloadCipher:
    """`PayloadCipher` over a `Keyring`. Thread-safe; build a new one when the keyring changes."""

    def __init__(self, keyring: Keyring, *, cache_size: int = 1024) -> None:
        self._keyring = keyring
        self._unwrap: Callable[[str, int, bytes], tuple[bytes, str]] = (
            functools.lru_cache(maxsize=cache_size)(self._unwrap_uncached) if cache_size > 0 else self._unwrap_uncached
        )

    @property
    def current_kek_id(self) -> str:
        return self._keyring.current_id

    def new_data_key(self) -> WrappedDataKey:
        return self._wrap(nacl.utils.random(DATA_KEY_BYTES))

    def seal(self, plaintext: str | bytes, data_key: WrappedDataKey, context: AadContext) -> bytes:
        if isinstance(plaintext, str):
            plaintext = plaintext.encode()
        key, key_id = self._unwrap(data_key.kek_id, data_key.version, data_key.wrapped)
        nonce = _RANDOM(NONCE_BYTES)
        return _PREFIX + nonce + _ENCRYPT(plaintext, context.render(key_id), nonce, key)

    def open(self, ciphertext: bytes, data_key: WrappedDataKey, context: AadContext) -> bytes:
        if not isinstance(ciphertext, bytes):
            ciphertext = bytes(ciphertext)  # bytearray / memoryview from a driver
        if len(ciphertext) < PAYLOAD_OVERHEAD or ciphertext[0] != PAYLOAD_VERSION:
            raise CipherError(
                f"The stored payload of {context.describe()} is not a version-{PAYLOAD_VERSION} ciphertext "
                f"({len(ciphertext)} bytes, version byte {ciphertext[:1].hex() or 'missing'}).",
                reason="format",
            )
        key, key_id = self._unwrap(data_key.kek_id, data_key.version, data_key.wrapped)
        try:
            return _DECRYPT(ciphertext[1 + NONCE_BYTES :], context.render(key_id), ciphertext[1 : 1 + NONCE_BYTES], key)
        except nacl.exceptions.CryptoError:
            raise CipherError(
                f"The payload of {context.describe()} does not authenticate: it was altered, belongs to another "
                "row or field, or was sealed under another data key.",
                reason="tampered",
            ) from None

    def rewrap(self, data_key: WrappedDataKey) -> WrappedDataKey:
        key, _ = self._unwrap(data_key.kek_id, data_key.version, data_key.wrapped)
        if data_key.kek_id == self._keyring.current_id and data_key.version == WRAP_VERSION:
            return data_key
        return self._wrap(key)

    def _wrap(self, key: bytes) -> WrappedDataKey:
        kek_id = self._keyring.current_id
        kek = nacl.secret.Aead(self._keyring.key(kek_id))
        return WrappedDataKey(kek_id=kek_id, wrapped=bytes(kek.encrypt(key, wrap_aad(kek_id))), version=WRAP_VERSION)

    def _unwrap_uncached(self, kek_id: str, version: int, wrapped: bytes) -> tuple[bytes, str]:
        if version != WRAP_VERSION:
            raise CipherError(f"Data key wrap format {version} is not supported.", reason="format")
        kek = nacl.secret.Aead(self._keyring.key(kek_id))  # CipherError(unknown_key) if not configured
        try:
            if len(wrapped) != WRAPPED_BYTES:
                raise nacl.exceptions.CryptoError
            key = kek.decrypt(bytes(wrapped), wrap_aad(kek_id))
        except nacl.exceptions.CryptoError:
            raise CipherError(
                f"The data key does not unwrap under key-encryption key {kek_id!r}: the key id is wrong, the key "
                "configured under that id is not the one it was wrapped with, or the wrapped key was altered.",
                reason="unwrap_failed",
            ) from None
        return key, data_key_id(key)
