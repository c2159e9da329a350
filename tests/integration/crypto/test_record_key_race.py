"""Two first uses of a client's record key at once (the therapist's first plan while the client submits a first
questionnaire) end with one key, which both use: nothing is sealed under a key no record points to."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from domain.shared.cipher import AadContext
from domain.shared.records import record_key
from infra.crypto.cipher import NaclPayloadCipher
from infra.crypto.keyring import keyring_from_settings
from infra.db.engine import create_engine, session_factory
from infra.db.uow import SqlUnitOfWork
from tests.support.users import signed_up

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url, pool_size=3, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_concurrent_first_uses_share_the_record_key(api, engine, settings):
    therapist = await signed_up(api, "therapist")
    client = await signed_up(api, "client")
    client_id, practice_id = uuid.UUID(client.id), uuid.UUID(therapist.practice_id)
    cipher = NaclPayloadCipher(keyring_from_settings(settings))
    sessions = session_factory(engine)

    async with SqlUnitOfWork(sessions) as first, SqlUnitOfWork(sessions) as second:
        mine = await record_key(first, cipher, uuid.uuid4, client_id, practice_id, NOW)  # not committed yet
        # The second first use sees no record either; its insert waits for the first transaction.
        theirs = asyncio.create_task(record_key(second, cipher, uuid.uuid4, client_id, practice_id, NOW))
        await asyncio.sleep(0.3)
        assert not theirs.done(), "the second insert waits on the first's uncommitted record"
        await first.commit()
        other = await asyncio.wait_for(theirs, 10)
        await second.commit()

    where = AadContext.of("therapy_plan_versions", "r", "body")
    sealed = cipher.seal("plan", other, where)
    assert cipher.open(sealed, mine, where) == b"plan", "both transactions seal under the same data key"
