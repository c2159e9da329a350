"""The in-memory set of revoked login sessions (ADR 20): what it refuses, and that it forgets what no live token
can name any more."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from domain.identity.model import LoginSession
from domain.identity.revocation_reloads import Backoff, RevocationReloads
from domain.identity.revocations import RevokedSessions
from domain.shared.errors import AuthenticationFailed
from domain.shared.principal import Principal, Role
from tests.support.clock import FakeClock
from tests.support.fakes import FakeUnitOfWork, Store

KEEP = timedelta(minutes=11)


def _principal(session_id: uuid.UUID) -> Principal:
    return Principal(user_id=uuid.uuid4(), role=Role.THERAPIST, practice_id=None, session_id=session_id)


def _session(store: Store, clock: FakeClock, user_id: uuid.UUID, revoked_ago: timedelta | None) -> uuid.UUID:
    now = clock.now()
    session = LoginSession(
        id=uuid.uuid4(),
        user_id=user_id,
        created_at=now - timedelta(hours=1),
        last_used_at=now,
        absolute_expires_at=now + timedelta(hours=1),
        last_active_at=now,
        revoked_at=None if revoked_ago is None else now - revoked_ago,
    )
    store.sessions[session.id] = session
    return session.id


def test_a_revoked_session_is_refused_until_no_token_of_it_can_be_live():
    clock = FakeClock()
    revoked = RevokedSessions(lambda: FakeUnitOfWork(Store()), clock, KEEP)
    gone, other = uuid.uuid4(), uuid.uuid4()
    revoked.add(gone, clock.now())
    with pytest.raises(AuthenticationFailed) as refused:
        revoked.check(_principal(gone))
    assert refused.value.code == "session_revoked"
    revoked.check(_principal(other))
    revoked.check(Principal(user_id=uuid.uuid4(), role=Role.CLIENT, practice_id=None, session_id=None))

    clock.advance(minutes=11)
    assert not revoked.is_revoked(gone)
    revoked.add(other, clock.now() - timedelta(minutes=12))  # revoked before any of its tokens could still live
    assert not revoked.is_revoked(other)
    assert len(revoked) == 0, "what no live token can name is forgotten"


async def test_load_reads_the_recent_revocations_all_or_one_users():
    store, clock = Store(), FakeClock()
    dana, eve = uuid.uuid4(), uuid.uuid4()
    recent = _session(store, clock, dana, timedelta(minutes=3))
    old = _session(store, clock, dana, timedelta(minutes=30))
    live = _session(store, clock, dana, None)
    eves = _session(store, clock, eve, timedelta(minutes=1))

    one = RevokedSessions(lambda: FakeUnitOfWork(store), clock, KEEP)
    await one.load(dana)
    assert [one.is_revoked(s) for s in (recent, old, live, eves)] == [True, False, False, False]

    every = RevokedSessions(lambda: FakeUnitOfWork(store), clock, KEEP)
    await every.load()
    assert [every.is_revoked(s) for s in (recent, old, live, eves)] == [True, False, False, True]
    clock.advance(minutes=8, seconds=1)
    assert [every.is_revoked(s) for s in (recent, eves)] == [False, True], "each kept from its own revocation"


class _Flaky:
    """A unit of work that fails to open `failures` times (the database is down), then works."""

    def __init__(self, store: Store, failures: int) -> None:
        self.store, self.failures, self.reads = store, failures, 0

    def __call__(self) -> FakeUnitOfWork:
        self.reads += 1
        if self.reads <= self.failures:
            raise ConnectionRefusedError("database down")
        return FakeUnitOfWork(self.store)


def _retries() -> int:
    return sum(1 for t in asyncio.all_tasks() if t.get_name() == "hearth-revocations" and not t.done())


async def test_a_reload_that_keeps_failing_is_retried_in_the_background_until_it_reads():
    """ADR 20: the read after a bell or a bus gap is tried twice; if the database stays down longer, one background
    retry (with a growing pause) goes on until a read succeeds, instead of missing the revocations until their
    tokens expire. The bell's delivery is not held up meanwhile, and later reads join that one retry."""
    store, clock = Store(), FakeClock()
    dana, eve = uuid.uuid4(), uuid.uuid4()
    flaky = _Flaky(store, failures=5)
    revoked = RevokedSessions(flaky, clock, KEEP)
    reloads = RevocationReloads(revoked, Backoff(first=0.001, most=0.004))

    await reloads.reload(dana)  # fails twice and returns: the bus goes on
    assert flaky.reads == 2 and reloads.retrying and _retries() == 1
    session = _session(store, clock, dana, timedelta(minutes=1))  # revoked in the database meanwhile
    others = _session(store, clock, eve, timedelta(minutes=2))  # its bell lost, the gap's full read finds it
    await reloads.reload(eve)
    await reloads.reload()
    assert flaky.reads == 2 and _retries() == 1, "later reads join the pending retry rather than read or pile up"
    assert not revoked.is_revoked(session)

    async with asyncio.timeout(2):
        while reloads.retrying:
            await asyncio.sleep(0.001)
    assert flaky.reads == 6, "retried until the read succeeded, then stopped (one full read covered each user)"
    assert revoked.is_revoked(session) and revoked.is_revoked(others)


async def test_shutdown_stops_a_pending_retry_and_starts_no_other():
    revoked = RevokedSessions(_Flaky(Store(), failures=10**9), FakeClock(), KEEP)
    reloads = RevocationReloads(revoked, Backoff(first=60, most=60))  # a retry asleep for a minute
    await reloads.reload()
    assert reloads.retrying
    async with asyncio.timeout(1):
        await reloads.close()
    assert not reloads.retrying and _retries() == 0
    await reloads.reload()
    assert not reloads.retrying and _retries() == 0, "nothing starts once the process is stopping"
