"""Group practice tests: the real app on a fake clock, emails through a real SMTP server, the group practice made
the way the operator makes it (`InvitationService.create_group`, what `hearth practice create-group` runs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from api.main import create_app
from tests.e2e.matching.conftest import answers
from tests.support.server import serve
from tests.support.smtp_server import SmtpServer, smtp_server
from tests.support.users import PASSWORD, LoggedIn, login, signed_up

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
PUBLIC_URL = "https://hearth.example"
_LINK = re.compile(re.escape(PUBLIC_URL) + r"/join\?invitation=[A-Za-z0-9_-]+")


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
async def app(settings, clock, smtp):
    clock.set(NOW)
    configured = settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "public_url": PUBLIC_URL,
        }
    )
    application = create_app(configured, clock=clock)
    async with serve(application) as url:
        yield application, url


@pytest.fixture
async def api(app):
    async with httpx.AsyncClient(base_url=app[1], timeout=30) as client:
        yield client


@dataclass
class Group:
    practice_id: str
    admin: LoggedIn


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["invitation"][0]


def links_to(smtp: SmtpServer, email: str) -> list[str]:
    """The invitation links emailed to `email`, oldest first."""
    found = []
    for received in smtp.received:
        if email.lower() in [r.lower() for r in received.rcpt_tos]:
            found += _LINK.findall(received.message.get_content())
    return found


async def accept(api: httpx.AsyncClient, link: str, email: str, **overrides: str) -> httpx.Response:
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": f"Joined {email.split('@')[0]}",
        "timezone": "America/New_York",
        **overrides,
    }
    return await api.post(f"/api/v1/invitations/{token_of(link)}/accept", json=body)


async def joined(api: httpx.AsyncClient, link: str, email: str, **overrides: str) -> LoggedIn:
    accepted = await accept(api, link, email, **overrides)
    assert accepted.status_code == 201, accepted.text
    user = accepted.json()
    tokens = await login(api, email)
    assert tokens.status_code == 200, tokens.text
    return LoggedIn(
        id=user["id"],
        email=user["email"],
        role=user["role"],
        access_token=tokens.json()["access_token"],
        refresh_token=tokens.json()["refresh_token"],
        practice_id=user["practice_id"],
    )


async def group_practice(app, api: httpx.AsyncClient, name: str, admin_email: str) -> Group:
    """A group practice created as the operator does, with its admin joined through the emailed link."""
    made = await app[0].state.container.invitations.create_group(name, admin_email, "Pat Admin")
    assert made.issued is not None
    admin = await joined(api, made.issued.link, admin_email, display_name=f"Admin of {name}")
    return Group(str(made.practice.id), admin)


async def invite(api: httpx.AsyncClient, group: Group, email: str, role: str = "therapist", **headers: str):
    return await api.post(
        f"/api/v1/practices/{group.practice_id}/invitations",
        json={"email": email, "role": role},
        headers={**group.admin.headers, **headers},
    )


async def join_staff(api, smtp, group: Group, email: str, role: str = "therapist") -> LoggedIn:
    """A member who joined from the emailed invitation, signed in."""
    sent = await invite(api, group, email, role)
    assert sent.status_code == 201, sent.text
    return await joined(api, links_to(smtp, email)[-1], email)


def deactivate(api, group: Group, user_id: str, by: LoggedIn | None = None):
    return api.post(
        f"/api/v1/practices/{group.practice_id}/members/{user_id}/deactivate", headers=(by or group.admin).headers
    )


def change_role(api, group: Group, user_id: str, role: str, by: LoggedIn | None = None):
    return api.put(
        f"/api/v1/practices/{group.practice_id}/members/{user_id}/role",
        json={"role": role},
        headers=(by or group.admin).headers,
    )


async def client_in_care(api, group: Group, therapist: LoggedIn, name: str) -> LoggedIn:
    """A client assigned to `therapist` from the practice's queue: care started, their conversation open."""
    client = await signed_up(api, "client", display_name=name)
    assert (await api.post("/api/v1/intake", json=answers(), headers=client.headers)).status_code == 201
    queued = await api.post(
        "/api/v1/matches", json={"mode": "queue", "practice_id": group.practice_id}, headers=client.headers
    )
    assert queued.status_code == 201, queued.text
    assigned = await api.post(
        f"/api/v1/practices/{group.practice_id}/match-queue/assignments", headers=group.admin.headers
    )
    assert assigned.status_code == 201, assigned.text
    assert [p["therapist_id"] for p in assigned.json()["placements"]] == [therapist.id]
    return client


async def rows(database_url: str, query: str, *args):
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()
