"""SqlUnitOfWork gives its connection back on every way out: commit, no commit, and an exception."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infra.db.engine import create_engine, session_factory
from infra.db.tables import therapist_profiles
from infra.db.uow import SqlUnitOfWork
from tests.support.scheduling import bookable_therapist
from tests.support.users import signed_up


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url, pool_size=2, max_overflow=0)
    yield engine
    await engine.dispose()


def _set_bio(therapist_id: str, bio: str) -> sa.Update:
    return therapist_profiles.update().where(therapist_profiles.c.therapist_id == therapist_id).values(bio=bio)


async def _bio(engine, therapist_id: str) -> str:
    async with engine.connect() as conn:
        query = sa.select(therapist_profiles.c.bio).where(therapist_profiles.c.therapist_id == therapist_id)
        return (await conn.execute(query)).scalar_one()


async def test_commit_rollback_and_errors_all_return_the_connection(api, engine):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    sessions = session_factory(engine)

    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(_set_bio(therapist.id, "kept"))
        await uow.commit()
    assert engine.pool.checkedout() == 0

    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(_set_bio(therapist.id, "left without commit"))
    assert engine.pool.checkedout() == 0

    with pytest.raises(RuntimeError):
        async with SqlUnitOfWork(sessions) as uow:
            await uow.session.execute(_set_bio(therapist.id, "failed"))
            raise RuntimeError("the use case failed")
    assert engine.pool.checkedout() == 0
    assert await _bio(engine, therapist.id) == "kept"

    # More units of work than the pool has connections: none may be left checked out.
    for n in range(5):
        async with SqlUnitOfWork(sessions) as uow:
            await uow.session.execute(_set_bio(therapist.id, f"round {n}"))
            if n % 2:
                await uow.commit()
    assert engine.pool.checkedout() == 0
    assert await _bio(engine, therapist.id) == "round 3"
