"""The PyNaCl PayloadCipher: round trips, tampering, wrong keys, rotation and re-wrapping."""

from __future__ import annotations

import base64
import os
import uuid

import nacl.bindings
import nacl.secret
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shared.cipher import AadContext, CipherError, PayloadCipher, WrappedDataKey
from infra.crypto.cipher import PAYLOAD_OVERHEAD, NaclPayloadCipher, data_key_id, wrap_aad
from infra.crypto.keyring import Keyring

KEK_A = os.urandom(32)
KEK_B = os.urandom(32)
MARKER = "canary-7f3c9a: the client said something private"


def cipher(keys: dict[str, bytes], current: str, **kwargs: int) -> NaclPayloadCipher:
    return NaclPayloadCipher(Keyring(keys, current), **kwargs)


@pytest.fixture
def under_a() -> NaclPayloadCipher:
    return cipher({"a": KEK_A}, "a")


@pytest.fixture
def ctx() -> AadContext:
    return AadContext.of("notes", uuid.uuid4(), "body", author=uuid.uuid4())


def test_the_adapter_implements_the_port(under_a):
    port: PayloadCipher = under_a
    assert port is under_a


def test_round_trip(under_a, ctx):
    key = under_a.new_data_key()
    assert under_a.open(under_a.seal(MARKER, key, ctx), key, ctx) == MARKER.encode()
    assert under_a.open(under_a.seal(b"\x00\xff", key, ctx), key, ctx) == b"\x00\xff"
    assert under_a.open(under_a.seal("", key, ctx), key, ctx) == b""


_contexts = st.builds(
    lambda table, row, field, sender: AadContext.of(table, row, field, sender=sender),
    st.sampled_from(["notes", "plans", "messages"]),
    st.uuids(),
    st.sampled_from(["body", "title"]),
    st.text(min_size=1, max_size=20),
)
_CIPHER = cipher({"a": KEK_A}, "a")
_KEY = _CIPHER.new_data_key()


@settings(max_examples=200)
@given(st.one_of(st.binary(max_size=4096), st.text(max_size=1024)), _contexts)
def test_round_trip_property(plaintext, context):
    sealed = _CIPHER.seal(plaintext, _KEY, context)
    expected = plaintext.encode() if isinstance(plaintext, str) else plaintext
    assert len(sealed) == len(expected) + PAYLOAD_OVERHEAD
    assert _CIPHER.open(sealed, _KEY, context) == expected


def test_stored_format_is_version_nonce_ciphertext_under_the_documented_aad(under_a, ctx):
    key = under_a.new_data_key()
    sealed = under_a.seal(MARKER, key, ctx)
    assert sealed[0] == 1 and len(sealed) == 1 + 24 + len(MARKER.encode()) + 16
    # An independent reader with only the documented format opens it.
    data_key = nacl.secret.Aead(KEK_A).decrypt(key.wrapped, b"hearth|purpose=payload-data-key|v1|kek=a")
    aad = ctx.render(data_key_id(data_key))
    assert aad.startswith(f"v1|table=notes|row={ctx.row}|field=body|key=".encode())
    assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[25:], aad, sealed[1:25], data_key) == (
        MARKER.encode()
    )
    assert key.kek_id == "a" and key.version == 1 and len(key.wrapped) == 72
    assert wrap_aad("a") == b"hearth|purpose=payload-data-key|v1|kek=a"


def test_nonces_are_fresh(under_a, ctx):
    key = under_a.new_data_key()
    sealed = {under_a.seal(MARKER, key, ctx) for _ in range(200)}
    assert len(sealed) == 200 and len({s[1:25] for s in sealed}) == 200


def test_memoryview_from_a_driver_opens(under_a, ctx):
    key = under_a.new_data_key()
    stored = WrappedDataKey(key.kek_id, memoryview(key.wrapped), key.version)  # type: ignore[arg-type]
    assert under_a.open(memoryview(under_a.seal(MARKER, key, ctx)), stored, ctx) == MARKER.encode()


def test_every_flipped_bit_fails_to_open(under_a, ctx):
    key = under_a.new_data_key()
    sealed = under_a.seal("short but private", key, ctx)
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(CipherError) as caught:
                under_a.open(bytes(tampered), key, ctx)
            assert caught.value.reason == ("format" if index == 0 else "tampered")
            assert caught.value.code == "decryption_failed"


@pytest.mark.parametrize("stored", [b"", b"\x01", b"\x01" + bytes(39), b"\x02" + bytes(60)])
def test_truncated_or_unknown_formats_fail_clearly(under_a, ctx, stored):
    with pytest.raises(CipherError, match="not a version-1 ciphertext") as caught:
        under_a.open(stored, under_a.new_data_key(), ctx)
    assert caught.value.reason == "format"


def test_a_ciphertext_moved_to_another_row_fails(under_a, ctx):
    key = under_a.new_data_key()
    sealed = under_a.seal(MARKER, key, ctx)
    extras = dict(ctx.extra)
    elsewhere = [
        AadContext.of("notes", uuid.uuid4(), "body", **extras),  # another row
        AadContext.of("notes", ctx.row, "summary", **extras),  # another field of the same row
        AadContext.of("plans", ctx.row, "body", **extras),  # another table
        AadContext.of("notes", ctx.row, "body", author=uuid.uuid4()),  # another author
        AadContext.of("notes", ctx.row, "body"),  # an extra dropped
    ]
    for other in elsewhere:
        with pytest.raises(CipherError, match="does not authenticate") as caught:
            under_a.open(sealed, key, other)
        assert caught.value.reason == "tampered"
        assert str(other.row) in caught.value.detail
    assert under_a.open(sealed, key, ctx) == MARKER.encode()


def test_another_record_groups_data_key_fails(under_a, ctx):
    # Psychotherapy notes are just another record group: their own data key opens nothing else.
    progress_note_key, psychotherapy_key = under_a.new_data_key(), under_a.new_data_key()
    assert progress_note_key.wrapped != psychotherapy_key.wrapped
    sealed = under_a.seal(MARKER, psychotherapy_key, ctx)
    with pytest.raises(CipherError) as caught:
        under_a.open(sealed, progress_note_key, ctx)
    assert caught.value.reason == "tampered"


def test_unknown_kek_id_fails_clearly(under_a, ctx):
    key = under_a.new_data_key()
    sealed = under_a.seal(MARKER, key, ctx)
    for op in (
        lambda k: under_a.open(sealed, k, ctx),
        lambda k: under_a.seal(MARKER, k, ctx),
        under_a.rewrap,
    ):
        with pytest.raises(CipherError, match=r"key-encryption key 'retired-2019', which is not configured") as caught:
            op(WrappedDataKey("retired-2019", key.wrapped, key.version))
        assert caught.value.reason == "unknown_key"
        assert "configured: a" in caught.value.detail


def test_wrong_kek_id_fails_even_with_the_data_key_cached(ctx):
    both = cipher({"a": KEK_A, "b": KEK_B}, "a")
    key = both.new_data_key()
    sealed = both.seal(MARKER, key, ctx)  # the real data key is now in the cache
    relabelled = WrappedDataKey("b", key.wrapped, key.version)
    with pytest.raises(CipherError, match=r"does not unwrap under key-encryption key 'b'") as caught:
        both.open(sealed, relabelled, ctx)
    assert caught.value.reason == "unwrap_failed"


def test_wrong_kek_material_or_altered_wrapped_key_fails(ctx):
    key = cipher({"a": KEK_A}, "a").new_data_key()
    impostor = cipher({"a": KEK_B}, "a")
    with pytest.raises(CipherError) as caught:
        impostor.seal(MARKER, key, ctx)
    assert caught.value.reason == "unwrap_failed"

    honest = cipher({"a": KEK_A}, "a")
    for altered in (
        WrappedDataKey("a", key.wrapped[:-1] + bytes([key.wrapped[-1] ^ 1])),
        WrappedDataKey("a", key.wrapped[:-1]),
        WrappedDataKey("a", key.wrapped, version=2),
    ):
        with pytest.raises(CipherError):
            honest.seal(MARKER, altered, ctx)


def test_data_keys_under_an_old_kek_still_open_after_adding_a_new_current_one(under_a, ctx):
    old_key = under_a.new_data_key()
    sealed = under_a.seal(MARKER, old_key, ctx)
    rotated = cipher({"a": KEK_A, "b": KEK_B}, "b")
    assert rotated.open(sealed, old_key, ctx) == MARKER.encode()
    new_key = rotated.new_data_key()
    assert new_key.kek_id == "b"
    assert rotated.open(rotated.seal(MARKER, new_key, ctx), new_key, ctx) == MARKER.encode()


def test_rewrap_moves_a_data_key_to_the_newest_kek_without_touching_payloads(under_a, ctx):
    old_key = under_a.new_data_key()
    sealed = under_a.seal(MARKER, old_key, ctx)

    rotated = cipher({"a": KEK_A, "b": KEK_B}, "b")
    new_key = rotated.rewrap(old_key)
    assert new_key.kek_id == "b" and new_key.wrapped != old_key.wrapped
    assert rotated.open(sealed, new_key, ctx) == MARKER.encode()
    assert rotated.rewrap(new_key) is new_key  # already current: nothing to write

    only_b = cipher({"b": KEK_B}, "b")
    assert only_b.open(sealed, new_key, ctx) == MARKER.encode()
    with pytest.raises(CipherError, match="'a', which is not configured") as caught:
        only_b.open(sealed, old_key, ctx)
    assert caught.value.reason == "unknown_key"


def test_the_cache_is_bounded_and_optional(ctx):
    small = cipher({"a": KEK_A}, "a", cache_size=4)
    keys = [small.new_data_key() for _ in range(20)]
    for key in keys:
        assert small.open(small.seal(MARKER, key, ctx), key, ctx) == MARKER.encode()
    assert small._unwrap.cache_info().currsize == 4  # type: ignore[attr-defined]

    uncached = cipher({"a": KEK_A}, "a", cache_size=0)
    assert uncached.open(uncached.seal(MARKER, keys[0], ctx), keys[0], ctx) == MARKER.encode()


def test_plaintext_and_keys_appear_in_no_ciphertext_and_no_message(ctx):
    both = cipher({"a": KEK_A, "b": KEK_B}, "a")
    key = both.new_data_key()
    sealed = both.seal(MARKER * 3, key, ctx)
    assert MARKER.encode() not in sealed and MARKER.encode() not in key.wrapped
    assert KEK_A not in sealed and KEK_A not in key.wrapped

    failures: list[CipherError] = []
    attempts = [
        lambda: both.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), key, ctx),
        lambda: both.open(sealed, key, AadContext.of("notes", uuid.uuid4(), "body")),
        lambda: both.open(sealed, WrappedDataKey("b", key.wrapped), ctx),
        lambda: both.open(sealed, WrappedDataKey("zz", key.wrapped), ctx),
        lambda: both.open(b"\x07" + MARKER.encode(), key, ctx),
    ]
    for attempt in attempts:
        with pytest.raises(CipherError) as caught:
            attempt()
        failures.append(caught.value)
    secrets = [MARKER, KEK_A.hex(), KEK_B.hex(), base64.b64encode(KEK_A).decode(), key.wrapped.hex()]
    for failure in failures:
        text = f"{failure} {failure!r} {failure.detail} {failure.__cause__!r} {failure.__context__!r}"
        for secret in secrets:
            assert secret not in text
        assert failure.__cause__ is None
    assert KEK_A.hex() not in repr(both._keyring) and "a" in repr(both._keyring)
