"""Refresh-token rotation, reuse detection, logout and session timeouts; a revoked session's access tokens are
refused at once, by every process (ADR 20)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
import httpx
import pytest

from api.main import create_app
from domain.identity.revocation_reloads import Backoff
from tests.support.server import serve
from tests.support.users import PASSWORD, LoggedIn, login, register, signed_up


async def _refresh(api, token: str):
    return await api.post("/api/v1/auth/refresh", json={"refresh_token": token})


def _revoked(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["code"] == "session_revoked"
    )


async def test_rotation_gives_a_new_pair_each_time(api):
    user = await signed_up(api)
    first = await _refresh(api, user.refresh_token)
    assert first.status_code == 200
    second = await _refresh(api, first.json()["refresh_token"])
    assert second.status_code == 200
    assert len({user.refresh_token, first.json()["refresh_token"], second.json()["refresh_token"]}) == 3


async def test_reused_refresh_token_revokes_the_whole_family(api):
    user = await signed_up(api)
    rotated = (await _refresh(api, user.refresh_token)).json()["refresh_token"]
    # An attacker replays the spent token...
    replay = await _refresh(api, user.refresh_token)
    assert replay.status_code == 401 and replay.json()["code"] == "refresh_token_reused"
    # ...and the legitimate holder's newer token dies with the family, its access tokens at once.
    after = await _refresh(api, rotated)
    assert after.status_code == 401
    assert _revoked(await api.get("/api/v1/me", headers=user.headers))
    # Another login session of the same user is untouched.
    other = (await login(api, user.email)).json()
    assert (await _refresh(api, other["refresh_token"])).status_code == 200
    assert (await api.get("/api/v1/me", headers={"Authorization": f"Bearer {other['access_token']}"})).is_success


async def test_concurrent_use_of_one_refresh_token_yields_one_winner(api):
    user = await signed_up(api)
    results = await asyncio.gather(*[_refresh(api, user.refresh_token) for _ in range(5)])
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == 4


async def test_cookie_refresh_for_the_spa(api):
    user = await register(api)
    response = await login(api, user["email"])
    cookie = response.cookies.get("hearth_refresh")
    assert cookie == response.json()["refresh_token"]
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "path=/api/v1/auth" in set_cookie
    refreshed = await api.post("/api/v1/auth/refresh", json={})
    assert refreshed.status_code == 200
    assert refreshed.cookies.get("hearth_refresh") == refreshed.json()["refresh_token"] != cookie


async def test_logout_revokes_the_session_and_its_access_token_at_once(api):
    user = await signed_up(api)
    other = await signed_up(api)
    out = await api.post("/api/v1/auth/logout", headers=user.headers)
    assert out.status_code == 204
    assert (await _refresh(api, user.refresh_token)).status_code == 401
    assert _revoked(await api.get("/api/v1/me", headers=user.headers))
    assert _revoked(await api.post("/api/v1/ws-tickets", headers=user.headers)), "no socket either"
    assert (await api.get("/api/v1/me", headers=other.headers)).is_success
    # A public route ignores the stale token: the user can sign in again from the same tab.
    again = await api.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD}, headers=user.headers
    )
    assert again.status_code == 200


async def test_logout_with_refresh_token_in_body(api):
    user = await signed_up(api)
    out = await api.post("/api/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 204
    assert (await _refresh(api, user.refresh_token)).status_code == 401
    assert _revoked(await api.get("/api/v1/me", headers=user.headers))


async def test_refresh_without_token_is_401(api):
    response = await api.post("/api/v1/auth/refresh", json={})
    assert response.status_code == 401 and response.json()["code"] == "invalid_refresh_token"


async def _refused_soon(api: httpx.AsyncClient, user: LoggedIn, seconds: float = 5) -> bool:
    """Whether `api` refuses the user's access token within `seconds` (another process hears the bell)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _revoked(await api.get("/api/v1/me", headers=user.headers)):
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("bus", ["postgres", "redis"])
async def test_every_process_refuses_a_revoked_session_from_its_start_and_after_the_bell(settings, bus):
    configured = settings.model_copy(
        update={
            "bus": bus,
            "bus_channel": f"hearth_t_{uuid.uuid4().hex[:16]}",
            "redis_url": os.environ.get("HEARTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        }
    )
    async with serve(create_app(configured)) as url, httpx.AsyncClient(base_url=url, timeout=30) as one:
        before, after, kept = await signed_up(one), await signed_up(one), await signed_up(one)
        assert (await one.post("/api/v1/auth/logout", headers=before.headers)).status_code == 204
        async with serve(create_app(configured)) as url_two, httpx.AsyncClient(base_url=url_two, timeout=30) as two:
            # Started after that sign-out: it read the revocation from the database.
            assert _revoked(await two.get("/api/v1/me", headers=before.headers))
            assert (await two.get("/api/v1/me", headers=after.headers)).is_success
            assert (await one.post("/api/v1/auth/logout", headers=after.headers)).status_code == 204
            assert _revoked(await one.get("/api/v1/me", headers=after.headers)), "at once where it happened"
            assert await _refused_soon(two, after), "the other process heard the bell"
            assert (await two.get("/api/v1/me", headers=kept.headers)).is_success


async def test_the_reload_after_a_bus_gap_survives_the_database_restart_that_caused_it(settings, database_url):
    """ADR 20: after a bus gap the process re-reads the revocations, since a bell may have been lost. A PostgreSQL
    restart is the usual gap, and it also leaves the pool's idle connections dead (no pre-ping: each fails once),
    so that read failed and the bus only logged it: the revocation made meanwhile was never refused here. We kill
    this process's pooled connections, revoke a session as another process would (its bell lost), then its bus
    listener: the reload must find it."""
    configured = settings.model_copy(update={"bus": "postgres", "bus_channel": f"hearth_t_{uuid.uuid4().hex[:16]}"})
    app = create_app(configured)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        user = await signed_up(api)
        assert (await api.get("/api/v1/me", headers=user.headers)).is_success
        listener = app.state.container.bus.listener_pid
        admin = await asyncpg.connect(database_url)
        try:
            pooled = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            await admin.execute(f"{pooled} AND pid <> pg_backend_pid() AND pid <> $1", listener)
            await admin.execute(
                "UPDATE login_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE user_id = $1",
                uuid.UUID(user.id),
            )
            await admin.execute("SELECT pg_terminate_backend($1)", listener)
        finally:
            await admin.close()
        assert await _refused_soon(api, user), "the reload after the gap found the revocation"


async def test_the_reload_after_a_bus_gap_is_retried_until_the_database_answers_again(settings, database_url):
    """ADR 20: when the database stays down longer than the two reads after a gap, a background retry goes on
    (here with short pauses) until one read succeeds: the revocation made meanwhile is then refused, not accepted
    until its tokens expire. We refuse new connections to the database and end this process's pooled ones, revoke
    a session as another process would (its bell lost), and the bus reports a gap; then the database comes back."""
    app = create_app(settings.model_copy(update={"bus": "memory"}))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        container = app.state.container
        container.revocation_reloads.backoff = Backoff(first=0.02, most=0.1)
        user = await signed_up(api)
        assert (await api.get("/api/v1/me", headers=user.headers)).is_success
        here = await asyncpg.connect(database_url)  # open before the database refuses new connections
        # A database cannot refuse connections while one is connected to it to ask: another one asks.
        admin = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
        name = await here.fetchval("SELECT quote_ident(current_database())")
        try:
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            await here.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await here.execute(
                "UPDATE login_sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE user_id = $1",
                uuid.UUID(user.id),
            )
            container.bus.simulate_gap()
            await container.bus.drain()  # both reads after the gap failed; the bus delivers on
            await asyncio.sleep(0.1)  # and a few retries fail too
        finally:
            await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            await admin.close()
            await here.close()
        assert await _refused_soon(api, user), "the retry read the revocation once the database was back"
        async with asyncio.timeout(5):
            await container.revocation_reloads.close()
