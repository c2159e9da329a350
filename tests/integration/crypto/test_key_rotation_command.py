"""`hearth keys rotate` re-wraps the stored data keys under the newest key; every payload still opens."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import asyncpg
from pydantic import SecretStr

from api.bootstrap import build_container
from domain.shared.cipher import AadContext, CipherError
from domain.shared.data_keys import data_key, new_data_key
from infra.crypto.keyring import generate_key
from infra.db.engine import session_factory
from infra.db.uow import SqlUnitOfWork

OLD, NEW = generate_key(), generate_key()


async def _seal_under(settings, texts: list[str]) -> list[tuple[uuid.UUID, bytes, AadContext]]:
    container = await build_container(settings)
    out = []
    try:
        sessions = session_factory(container.engine)
        for text in texts:
            async with SqlUnitOfWork(sessions) as uow:
                key_id, key = await new_data_key(uow, container.cipher, uuid.uuid4, container.clock.now())
                context = AadContext.of("notes", uuid.uuid4(), "body")
                out.append((key_id, container.cipher.seal(text, key, context), context))
                await uow.commit()
    finally:
        await container.close()
    return out


async def _open_all(settings, sealed) -> list[str]:
    container = await build_container(settings)
    try:
        sessions = session_factory(container.engine)
        async with SqlUnitOfWork(sessions) as uow:
            return [
                container.cipher.open(blob, await data_key(uow, key_id), context).decode()
                for key_id, blob, context in sealed
            ]
    finally:
        await container.close()


async def test_rotation_rewraps_every_key_and_old_kek_can_then_go(settings, database_url):
    with_old = settings.model_copy(update={"payload_keks": {"k1": SecretStr(OLD)}, "payload_kek_current": "k1"})
    both = settings.model_copy(
        update={"payload_keks": {"k1": SecretStr(OLD), "k2": SecretStr(NEW)}, "payload_kek_current": "k2"}
    )
    only_new = settings.model_copy(update={"payload_keks": {"k2": SecretStr(NEW)}, "payload_kek_current": "k2"})
    texts = [f"note {i}" for i in range(5)]
    sealed = await _seal_under(with_old, texts)

    env = {
        "DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
        "HEARTH_DATA_DIR": str(settings.data_dir),
        "HEARTH_PAYLOAD_KEKS": f'{{"k1": "{OLD}", "k2": "{NEW}"}}',
        "HEARTH_PAYLOAD_KEK_CURRENT": "k2",
        "HEARTH_LOG_LEVEL": "WARNING",
    }
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "api.cli", "keys", "rotate"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "5 data keys re-wrapped under key 'k2'" in result.stdout

    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM data_keys WHERE kek_id <> 'k2'") == 0
    finally:
        await conn.close()
    assert await _open_all(only_new, sealed) == texts
    assert await _open_all(both, sealed) == texts


async def test_without_rotation_the_old_kek_is_still_needed(settings):
    with_old = settings.model_copy(update={"payload_keks": {"k1": SecretStr(OLD)}, "payload_kek_current": "k1"})
    only_new = settings.model_copy(update={"payload_keks": {"k2": SecretStr(NEW)}, "payload_kek_current": "k2"})
    sealed = await _seal_under(with_old, ["secret"])
    try:
        await _open_all(only_new, sealed)
    except CipherError as err:
        assert err.reason == "unknown_key"
    else:
        raise AssertionError("a key wrapped under a removed KEK must not open")
