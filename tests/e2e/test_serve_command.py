"""`hearth serve --port N`: unless HEARTH_PUBLIC_URL says otherwise, the links Hearth hands out name that port."""

from __future__ import annotations

import httpx

from tests.support.processes import HearthProcess, hearth_env, hearth_processes
from tests.support.users import signed_up


async def _calendar_feed_url(database_url: str, tmp_path, **env: str) -> tuple[str, HearthProcess]:
    server = HearthProcess(hearth_env(database_url, tmp_path / "data", **env), tmp_path)
    async with hearth_processes(server), httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        therapist = await signed_up(api)
        response = await api.post("/api/v1/calendar-feeds", headers=therapist.headers)
    assert response.status_code == 201, response.text
    return response.json()["url"], server


async def test_the_public_url_follows_the_port(database_url, tmp_path):
    # It stayed http://127.0.0.1:8000 whatever --port was, so every link pointed at a server that was not there.
    url, server = await _calendar_feed_url(database_url, tmp_path)
    assert server.port != 8000
    assert url.startswith(f"http://127.0.0.1:{server.port}/api/v1/calendar/")


async def test_a_configured_public_url_wins(database_url, tmp_path):
    url, _ = await _calendar_feed_url(database_url, tmp_path, HEARTH_PUBLIC_URL="https://hearth.example")
    assert url.startswith("https://hearth.example/api/v1/calendar/")
