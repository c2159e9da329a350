"""IdentityService rules with in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.identity.model import SessionPolicies, SessionPolicy
from domain.identity.revocations import RevokedSessions
from domain.identity.service import IdentityService, Registration, ThrottleRules
from domain.identity.throttle import ThrottleRule
from domain.shared.errors import AuthenticationFailed, RateLimited, SessionRevoked, ValidationFailed
from domain.shared.principal import Role
from tests.support.clock import FakeClock
from tests.support.fakes import FakeTokens, FakeUnitOfWork, PlainHasher, SequentialIds, Store

PASSWORD = "a perfectly good passphrase"


@pytest.fixture
def store():
    return Store()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def revoked(store, clock):
    return RevokedSessions(lambda: FakeUnitOfWork(store), clock, timedelta(minutes=11))


@pytest.fixture
def service(store, clock, revoked):
    return IdentityService(
        uow=lambda: FakeUnitOfWork(store),
        hasher=PlainHasher(),
        tokens=FakeTokens(),
        clock=clock,
        ids=SequentialIds(),
        policies=SessionPolicies(
            staff=SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12)),
            client=SessionPolicy(idle=timedelta(days=7), absolute=timedelta(days=30)),
        ),
        throttle=ThrottleRules(
            account=ThrottleRule(3, timedelta(minutes=15), timedelta(minutes=15)),
            address=ThrottleRule(10, timedelta(minutes=15), timedelta(minutes=15)),
        ),
        dummy_hash="plain$nobody",
        revoked=revoked,
    )


def _reg(role=Role.THERAPIST, email="Dana@Example.com", password=PASSWORD):
    return Registration(email, password, role, "Dana", "America/New_York")


async def test_therapist_gets_an_independent_practice_and_email_is_normalised(service, store):
    user = await service.register(_reg())
    assert user.email == "dana@example.com"
    assert user.practice_id in store.practices
    assert [e.action for e in store.audit] == ["user.register"]


async def test_client_gets_no_practice(service, store):
    user = await service.register(_reg(Role.CLIENT))
    assert user.practice_id is None and store.practices == {}


async def test_admins_cannot_self_register(service):
    with pytest.raises(ValidationFailed) as err:
        await service.register(_reg(Role.PRACTICE_ADMIN))
    assert err.value.code == "role_not_allowed"


@pytest.mark.parametrize("password", ["short", "password1234", "aaaaaaaaaaaaaaa", "my dana@ passphrase dana"])
async def test_weak_passwords(service, password):
    with pytest.raises(ValidationFailed) as err:
        await service.register(_reg(password=password, email="dana@example.com"))
    assert err.value.code == "weak_password"


async def test_failed_register_leaves_nothing(service, store):
    with pytest.raises(ValidationFailed):
        await service.register(_reg(password="short"))
    assert store.users == {} and store.audit == []


async def test_login_then_refresh_rotates(service):
    await service.register(_reg())
    pair = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    again = await service.refresh(pair.refresh_token)
    assert again.refresh_token != pair.refresh_token and again.session_id == pair.session_id


async def test_reuse_revokes_the_family(service, store):
    await service.register(_reg())
    pair = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    fresh = await service.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationFailed) as err:
        await service.refresh(pair.refresh_token)
    assert err.value.code == "refresh_token_reused"
    assert store.sessions[pair.session_id].revoked_reason == "refresh_token_reused"
    with pytest.raises(AuthenticationFailed):
        await service.refresh(fresh.refresh_token)


async def test_throttle_blocks_then_releases(service, clock):
    await service.register(_reg())
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            await service.login("dana@example.com", "wrong passphrase!!", "10.0.0.1")
    with pytest.raises(RateLimited) as err:
        await service.login("dana@example.com", PASSWORD, "10.0.0.2")
    assert 0 < err.value.retry_after <= 15 * 60 + 1
    clock.advance(minutes=15, seconds=1)
    assert (await service.login("dana@example.com", PASSWORD, "10.0.0.2")).access_token


async def test_success_on_the_attempt_reaching_the_address_limit_leaves_the_address_open(service):
    await service.register(_reg())
    for i in range(9):
        with pytest.raises(AuthenticationFailed):
            await service.login(f"colleague{i}@example.com", "wrong passphrase!!", "10.0.0.1")
    assert (await service.login("dana@example.com", PASSWORD, "10.0.0.1")).access_token
    assert (await service.login("dana@example.com", PASSWORD, "10.0.0.1")).access_token
    with pytest.raises(AuthenticationFailed):
        await service.login("someone@example.com", "wrong passphrase!!", "10.0.0.1")
    with pytest.raises(RateLimited):
        await service.login("dana@example.com", PASSWORD, "10.0.0.1")


async def test_logout_ignores_someone_elses_session(service, store):
    await service.register(_reg())
    await service.register(_reg(email="eve@example.com"))
    dana = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    eve = await service.login("eve@example.com", PASSWORD, "10.0.0.1")
    eve_principal = service._tokens.verify(eve.access_token)
    # Eve presents Dana's refresh token with her own access token: the access token's session wins.
    await service.logout(principal=eve_principal, refresh_token=dana.refresh_token)
    assert store.sessions[dana.session_id].revoked_at is None
    assert store.sessions[eve.session_id].revoked_at is not None


async def test_each_revocation_is_refused_by_this_process_as_soon_as_it_commits(service, revoked, store, clock):
    """Without waiting for the `session_end` bell (ADR 20): the caller rings it only after this returns."""
    await service.register(_reg())
    idle = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    clock.advance(minutes=31)
    with pytest.raises(SessionRevoked) as expired:
        await service.refresh(idle.refresh_token)
    assert expired.value.code == "session_expired" and expired.value.user_id == store.sessions[idle.session_id].user_id

    out = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    ended_for = await service.logout(principal=None, refresh_token=out.refresh_token)
    assert ended_for == store.sessions[out.session_id].user_id
    assert await service.logout(principal=None, refresh_token=out.refresh_token) is None, "nothing ended twice"
    reused = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    await service.refresh(reused.refresh_token)
    with pytest.raises(SessionRevoked):
        await service.refresh(reused.refresh_token)
    kept = await service.login("dana@example.com", PASSWORD, "10.0.0.1")
    assert [revoked.is_revoked(p.session_id) for p in (idle, out, reused, kept)] == [True, True, True, False]
