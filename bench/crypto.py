"""Payload encryption cost: the PayloadCipher adapter against raw `nacl.bindings` calls.

Run on demand (not a test):  .venv/bin/python bench/crypto.py [--iterations N] [--size BYTES]

Per record = one encrypt plus one decrypt of a `--size` payload (default 1 KiB), each record with its
own row context, as messaging does: the adapter with its data key already unwrapped in the LRU cache;
raw = a fresh 24-byte nonce + crypto_aead_xchacha20poly1305_ietf_encrypt/decrypt with the same
associated data and key, prebuilt. For reference it also times `nacl.secret.Aead` objects and a cold
data-key unwrap. Target: adapter/raw <= 1.5 (p50; exit status 1 above it).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import uuid

import nacl.bindings
import nacl.secret
import nacl.utils

from domain.shared.cipher import AadContext
from infra.crypto.cipher import NaclPayloadCipher, data_key_id
from infra.crypto.keyring import Keyring

TARGET_RATIO = 1.5
BLOCK = 500


def _summary(samples_ns: list[int]) -> tuple[float, float]:
    return statistics.median(samples_ns) / 1000, statistics.fmean(samples_ns) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=50_000, help="records per variant")
    parser.add_argument("--size", type=int, default=1024, help="payload bytes")
    args = parser.parse_args(argv)

    keyring = Keyring({"bench": os.urandom(32)}, "bench")
    cipher = NaclPayloadCipher(keyring)
    data_key = cipher.new_data_key()
    raw_key = nacl.secret.Aead(keyring.key("bench")).decrypt(
        data_key.wrapped, f"hearth|purpose=payload-data-key|v1|kek={data_key.kek_id}".encode()
    )
    key_id = data_key_id(raw_key)
    payload = os.urandom(args.size)
    conversation, sender = uuid.uuid4(), uuid.uuid4()
    contexts = [
        AadContext.of("messages", uuid.uuid4(), "body", conversation=conversation, sender=sender) for _ in range(BLOCK)
    ]
    aads = [ctx.render(key_id) for ctx in contexts]

    # Same primitive, same bytes: the raw call must open what the adapter sealed (format check).
    sealed = cipher.seal(payload, data_key, contexts[0])
    assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[25:], aads[0], sealed[1:25], raw_key) == (
        payload
    )

    encrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt
    decrypt = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt
    random = nacl.utils.random
    aead = nacl.secret.Aead(raw_key)
    seal, open_ = cipher.seal, cipher.open
    clock = time.perf_counter_ns

    def raw_block(out: list[int]) -> None:
        for aad in aads:
            t0 = clock()
            nonce = random(24)
            ct = encrypt(payload, aad, nonce, raw_key)
            decrypt(ct, aad, nonce, raw_key)
            out.append(clock() - t0)

    def adapter_block(out: list[int]) -> None:
        for ctx in contexts:
            t0 = clock()
            open_(seal(payload, data_key, ctx), data_key, ctx)
            out.append(clock() - t0)

    def aead_block(out: list[int]) -> None:
        for aad in aads:
            t0 = clock()
            aead.decrypt(aead.encrypt(payload, aad), aad)
            out.append(clock() - t0)

    variants = {"raw nacl.bindings": raw_block, "PayloadCipher adapter": adapter_block, "nacl.secret.Aead": aead_block}
    samples: dict[str, list[int]] = {name: [] for name in variants}
    for block in variants.values():  # warm up
        block([])
    gc.disable()
    try:
        # Interleave blocks so drift (frequency scaling, other load) hits every variant alike.
        for _ in range(max(1, args.iterations // BLOCK)):
            for name, block in variants.items():
                block(samples[name])
    finally:
        gc.enable()

    cold = NaclPayloadCipher(keyring, cache_size=0)
    cold_ns: list[int] = []
    for ctx in contexts * 4:
        t0 = clock()
        cold.open(cold.seal(payload, data_key, ctx), data_key, ctx)
        cold_ns.append(clock() - t0)

    n = len(samples["raw nacl.bindings"])
    print(f"payload {args.size} B, {n} records per variant, per record = encrypt + decrypt")
    print(f"{'variant':<24}{'p50 us':>10}{'mean us':>10}")
    figures = {name: _summary(values) for name, values in samples.items()}
    for name, (p50, mean) in figures.items():
        print(f"{name:<24}{p50:>10.2f}{mean:>10.2f}")
    raw_p50, raw_mean = figures["raw nacl.bindings"]
    ad_p50, ad_mean = figures["PayloadCipher adapter"]
    print(f"ratio adapter/raw: p50 {ad_p50 / raw_p50:.2f}x, mean {ad_mean / raw_mean:.2f}x (target <= {TARGET_RATIO}x)")
    cold_p50, cold_mean = _summary(cold_ns)
    print(
        "reference, adapter without the data-key cache (2 unwraps per record): "
        f"p50 {cold_p50:.2f} us, mean {cold_mean:.2f} us"
    )
    # The p50 decides: the mean follows whatever else the machine is doing.
    return 0 if ad_p50 / raw_p50 <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
