"""Helpers that register and log in users over the real HTTP API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "a perfectly good passphrase"


@dataclass
class LoggedIn:
    id: str
    email: str
    role: str
    access_token: str
    refresh_token: str
    practice_id: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(api: httpx.AsyncClient, role: str = "therapist", **overrides: str) -> dict:
    body = {
        "email": f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        "password": PASSWORD,
        "role": role,
        "display_name": f"Test {role.title()}",
        "timezone": "America/New_York",
        **overrides,
    }
    response = await api.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/api/v1/auth/token", data={"username": email, "password": password})


async def signed_up(api: httpx.AsyncClient, role: str = "therapist", **overrides: str) -> LoggedIn:
    user = await register(api, role, **overrides)
    response = await login(api, user["email"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    return LoggedIn(
        id=user["id"],
        email=user["email"],
        role=role,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        practice_id=user["practice_id"],
    )


async def relogin(api: httpx.AsyncClient, *users: LoggedIn) -> None:
    """Fresh access tokens after a test moved the fake clock past their expiry."""
    for user in users:
        response = await login(api, user.email)
        assert response.status_code == 200, response.text
        user.access_token = response.json()["access_token"]
        user.refresh_token = response.json()["refresh_token"]
