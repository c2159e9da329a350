"""infra/db/fast.py: hot statements through asyncpg give the rows SQLAlchemy gives, in the same transaction."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from infra.db import fast
from infra.db.engine import create_engine, session_factory
from infra.db.repositories.scheduling import _OFFICE_HOURS, _PROFILE
from infra.db.tables import audit_events, office_hours, therapist_profiles
from tests.support.scheduling import bookable_therapist
from tests.support.users import signed_up

_SET_BIO = fast.FastStatement(
    therapist_profiles.update()
    .where(therapist_profiles.c.therapist_id == sa.bindparam("id"))
    .values(bio=sa.bindparam("bio"))
)
_LAST_EVENT = fast.FastStatement(
    sa.select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)
)


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_rows_match_sqlalchemy_including_jsonb_and_arrays(api, sessions):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    async with sessions() as session:
        for statement, table, key in (
            (_PROFILE, therapist_profiles, therapist_profiles.c.therapist_id),
            (_OFFICE_HOURS, office_hours, office_hours.c.therapist_id),
        ):
            expected = (await session.execute(sa.select(table).where(key == therapist.id))).one()._asdict()
            row = await fast.fetchrow(session, statement, id=therapist.id)
            assert {name: getattr(row, name) for name in expected} == expected
            assert isinstance(expected.get("rates", expected.get("rules")), dict | list)  # decoded, not text
        assert await fast.fetchrow(session, _PROFILE, id=uuid.uuid4()) is None


async def test_fixed_binds_missing_params_and_attribute_errors(api, sessions):
    await signed_up(api, "client")  # registering appends audit events
    async with sessions() as session:
        last = await fast.fetchrow(session, _LAST_EVENT)  # `.limit(1)` is a bind with its value fixed
        assert last.seq >= 1 and len(last.hash) == 64
        with pytest.raises(AttributeError):
            _ = last.no_such_column
        with pytest.raises(TypeError, match="missing bind parameter"):
            await fast.fetchrow(session, _PROFILE)


async def test_raw_and_sqlalchemy_statements_share_one_transaction(api, sessions):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    async with sessions() as session:
        await session.execute(
            therapist_profiles.update().where(therapist_profiles.c.therapist_id == therapist.id).values(bio="draft")
        )
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio == "draft"  # sees the uncommitted change
        await session.rollback()
    async with sessions() as session:
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio != "draft"


async def test_the_transaction_is_begun_without_an_extra_statement_and_raw_writes_roll_back(api, sessions):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    async with sessions() as session:
        connection = await session.connection()
        adapter = (await connection.get_raw_connection()).dbapi_connection
        # The SQLAlchemy internals infra.jobs.queue._begin relies on (it falls back to `SELECT 1` without them).
        assert adapter._transaction is None and adapter._execute_mutex is not None
        driver = await fast.driver(session)
        assert driver.is_in_transaction() and adapter._transaction is not None
        await fast.execute(session, _SET_BIO, id=therapist.id, bio="never committed")
        await session.rollback()
    async with sessions() as session:
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio != "never committed"


async def test_a_unit_of_work_without_snapshot_reads_outside_a_transaction_but_still_writes_in_one(api, sessions):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    async with sessions() as session:
        fast.read_without_transaction(session)
        driver = await fast.driver(session)
        assert not driver.is_in_transaction()
        assert str((await fast.fetchrow(session, _PROFILE, id=therapist.id)).therapist_id) == therapist.id
        await session.execute(
            therapist_profiles.update().where(therapist_profiles.c.therapist_id == therapist.id).values(bio="x")
        )
        assert driver.is_in_transaction()  # SQLAlchemy began one for the write
        await session.rollback()
    async with sessions() as session:
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio != "x"


async def test_each_transaction_of_a_session_gets_its_own_begun_connection(api, sessions):
    """The driver is cached per transaction without asking the session each time: after a commit or a rollback,
    the next fast statement must begin (and belong to) a new transaction, not reuse the old one's state."""
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    async with sessions() as session:
        await fast.execute(session, _SET_BIO, id=therapist.id, bio="committed")
        await session.commit()
        second = await fast.driver(session)
        assert second.is_in_transaction()  # begun afresh after the commit
        await fast.execute(session, _SET_BIO, id=therapist.id, bio="rolled back")
        await session.rollback()
        third = await fast.driver(session)
        assert third.is_in_transaction()
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio == "committed"
        await fast.execute(session, _SET_BIO, id=therapist.id, bio="committed again")
        await session.commit()
    async with sessions() as session:
        assert (await fast.fetchrow(session, _PROFILE, id=therapist.id)).bio == "committed again"
