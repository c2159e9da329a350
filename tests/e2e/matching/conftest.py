"""Matching tests: a real server on a fake clock, therapists published through the API, and (where a test needs
a group practice) staff moved into one practice directly in the database, quicker than inviting them (the
invitations themselves are tested in tests/e2e/practices)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from api.main import create_app
from tests.support.scheduling import publish_hours, publish_profile
from tests.support.server import serve
from tests.support.users import LoggedIn, login, signed_up

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York


@pytest.fixture
async def app(settings, clock):
    clock.set(NOW)
    application = create_app(settings, clock=clock)
    async with serve(application) as url:
        yield application, url


@pytest.fixture
async def api(app):
    async with httpx.AsyncClient(base_url=app[1], timeout=30) as client:
        yield client


def answers(**overrides) -> dict:
    return {
        "concerns": ["anxiety", "grief"],
        "prior_therapy": "past",
        "modalities": ["video"],
        "session_minutes": 50,
        "language": "en",
        "residence": "US-OH",
        "timezone": "America/New_York",
        "consent_to_match": True,
        "days": [1, 2, 3, 4, 5],
        "times": [{"start": "09:00", "end": "17:00"}],
        **overrides,
    }


async def therapist(api: httpx.AsyncClient, name: str, **profile) -> LoggedIn:
    """A therapist licensed in Ohio with office hours every day 09:00-17:00 New York time."""
    user = await signed_up(api, "therapist", display_name=name)
    await publish_profile(api, user, **{"display_name": name, "licenses": ["US-OH"], **profile})
    await publish_hours(api, user)
    return user


async def submitted(api: httpx.AsyncClient, client: LoggedIn, **overrides) -> None:
    response = await api.post("/api/v1/intake", json=answers(**overrides), headers=client.headers)
    assert response.status_code == 201, response.text


async def suggestions(api: httpx.AsyncClient, client: LoggedIn) -> dict:
    response = await api.post("/api/v1/matches", json={"mode": "suggest"}, headers=client.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def choose(api: httpx.AsyncClient, client: LoggedIn, match: dict, therapist_id: str, **extra) -> dict:
    response = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": therapist_id, **extra}, headers=client.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def into_practice(database_url: str, practice_id: str, *users: LoggedIn, role: str | None = None) -> None:
    """Make the practice a group one and move staff into it (admins when `role` says so); log them in again."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE practices SET kind = 'group' WHERE id = $1", uuid.UUID(practice_id))
        for user in users:
            await conn.execute(
                "UPDATE users SET practice_id = $1, role = coalesce($2, role) WHERE id = $3",
                uuid.UUID(practice_id),
                role,
                uuid.UUID(user.id),
            )
            await conn.execute(
                "UPDATE therapist_profiles SET practice_id = $1 WHERE therapist_id = $2",
                uuid.UUID(practice_id),
                uuid.UUID(user.id),
            )
    finally:
        await conn.close()


async def fresh_login(api: httpx.AsyncClient, user: LoggedIn, role: str | None = None) -> LoggedIn:
    response = await login(api, user.email)
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = (await api.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})).json()
    return LoggedIn(
        id=user.id,
        email=user.email,
        role=role or user.role,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        practice_id=me.get("practice_id"),
    )
