"""Refresh-token rotation, reuse detection, logout and session timeouts."""

from __future__ import annotations

import asyncio

from tests.support.users import login, register, signed_up


async def _refresh(api, token: str):
    return await api.post("/api/v1/auth/refresh", json={"refresh_token": token})


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
    # ...and the legitimate holder's newer token dies with the family.
    after = await _refresh(api, rotated)
    assert after.status_code == 401
    # Another login session of the same user is untouched.
    other = (await login(api, user.email)).json()["refresh_token"]
    assert (await _refresh(api, other)).status_code == 200


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


async def test_logout_revokes_the_session(api):
    user = await signed_up(api)
    out = await api.post("/api/v1/auth/logout", headers=user.headers)
    assert out.status_code == 204
    assert (await _refresh(api, user.refresh_token)).status_code == 401


async def test_logout_with_refresh_token_in_body(api):
    user = await signed_up(api)
    out = await api.post("/api/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 204
    assert (await _refresh(api, user.refresh_token)).status_code == 401


async def test_refresh_without_token_is_401(api):
    response = await api.post("/api/v1/auth/refresh", json={})
    assert response.status_code == 401 and response.json()["code"] == "invalid_refresh_token"
