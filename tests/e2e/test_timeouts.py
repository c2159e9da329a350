"""Idle and absolute session timeouts, driven by a controllable clock."""

from __future__ import annotations

import httpx

from api.main import create_app
from tests.support.server import serve
from tests.support.users import login, register, signed_up


async def test_staff_idle_timeout(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        clock.advance(minutes=29)
        ok = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
        assert ok.status_code == 200
        clock.advance(minutes=31)
        late = await api.post("/api/v1/auth/refresh", json={"refresh_token": ok.json()["refresh_token"]})
        assert late.status_code == 401 and late.json()["code"] == "session_expired"


async def _refresh(api: httpx.AsyncClient, token: str, idle_seconds: int | None = None) -> httpx.Response:
    body: dict[str, object] = {"refresh_token": token}
    if idle_seconds is not None:
        body["idle_seconds"] = idle_seconds
    return await api.post("/api/v1/auth/refresh", json=body)


async def test_background_refreshes_do_not_keep_an_idle_staff_session(settings, clock):
    # A therapist's tab left open refreshes every 10 minutes for its polls, each saying how long the user has been
    # away: the session still ends 30 minutes after the last activity.
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        token = user.refresh_token
        for away in (10, 20):
            clock.advance(minutes=10)
            response = await _refresh(api, token, idle_seconds=away * 60)
            assert response.status_code == 200, response.text
            assert response.json()["idle_timeout"] == 30 * 60
            assert response.json()["idle_expires_in"] == (30 - away) * 60
            token = response.json()["refresh_token"]
        clock.advance(minutes=10)
        late = await _refresh(api, token, idle_seconds=30 * 60)
        assert late.status_code == 401 and late.json()["code"] == "session_expired"


async def test_declared_activity_moves_the_idle_limit(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        clock.advance(minutes=25)
        # The user was active 5 minutes ago, in the tab, without a request: the limit runs from then.
        response = await _refresh(api, user.refresh_token, idle_seconds=5 * 60)
        assert response.status_code == 200 and response.json()["idle_expires_in"] == 25 * 60
        clock.advance(minutes=24)
        response = await _refresh(api, response.json()["refresh_token"], idle_seconds=0)
        assert response.status_code == 200 and response.json()["idle_expires_in"] == 30 * 60
        # A later refresh that reports older activity does not move the limit back.
        clock.advance(minutes=1)
        response = await _refresh(api, response.json()["refresh_token"], idle_seconds=3600)
        assert response.status_code == 200 and response.json()["idle_expires_in"] == 29 * 60


async def test_activity_after_the_idle_limit_revives_nothing(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        clock.advance(minutes=40)
        # Back at the desk a minute ago, after 39 minutes away: the session had ended meanwhile.
        late = await _refresh(api, user.refresh_token, idle_seconds=60)
        assert late.status_code == 401 and late.json()["code"] == "session_expired"


async def test_idle_seconds_must_not_be_negative(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        response = await _refresh(api, user.refresh_token, idle_seconds=-60)
        assert response.status_code == 422


async def test_login_tells_the_idle_limit(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        client = await register(api, "client")
        tokens = (await login(api, client["email"])).json()
        assert tokens["idle_timeout"] == tokens["idle_expires_in"] == 7 * 24 * 3600


async def test_staff_absolute_timeout_despite_activity(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        token = user.refresh_token
        for _ in range(24):  # active every 25 minutes for 10 hours
            clock.advance(minutes=25)
            response = await api.post("/api/v1/auth/refresh", json={"refresh_token": token})
            assert response.status_code == 200
            token = response.json()["refresh_token"]
        clock.advance(hours=2, minutes=1)
        response = await api.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401 and response.json()["code"] == "session_expired"


async def test_client_sessions_last_longer(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "client")
        clock.advance(hours=3)
        response = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
        assert response.status_code == 200


async def test_access_token_expires_with_the_clock(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        assert (await api.get("/api/v1/me", headers=user.headers)).status_code == 200
        clock.advance(minutes=11)
        response = await api.get("/api/v1/me", headers=user.headers)
        assert response.status_code == 401 and response.json()["code"] == "token_expired"
