"""Idle and absolute session timeouts, driven by a controllable clock."""

from __future__ import annotations

import httpx

from api.main import create_app
from tests.support.server import serve
from tests.support.users import signed_up


async def test_staff_idle_timeout(settings, clock):
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as api:
        user = await signed_up(api, "therapist")
        clock.advance(minutes=29)
        ok = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
        assert ok.status_code == 200
        clock.advance(minutes=31)
        late = await api.post("/api/v1/auth/refresh", json={"refresh_token": ok.json()["refresh_token"]})
        assert late.status_code == 401 and late.json()["code"] == "session_expired"


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
