"""`hearth practice create-group`: the operator creates a group practice and invites its first admin; the link is
printed and emailed, and running it again is safe."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid

import asyncpg
import pytest

from tests.support.smtp_server import smtp_server
from tests.support.users import PASSWORD, signed_up

PUBLIC_URL = "https://hearth.example"


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


async def _create_group(settings, database_url, smtp, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
        "HEARTH_DATA_DIR": str(settings.data_dir),
        "HEARTH_LOG_LEVEL": "WARNING",
        "HEARTH_PUBLIC_URL": PUBLIC_URL,
        "HEARTH_EMAIL_BACKEND": "smtp",
        "HEARTH_SMTP_HOST": smtp.host,
        "HEARTH_SMTP_PORT": str(smtp.port),
        "HEARTH_SMTP_SECURITY": "none",
        "HEARTH_ARGON2_MEMORY_KIB": "8192",
        "HEARTH_ARGON2_TIME_COST": "1",
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.cli", "practice", "create-group", *args],
        env=env,
        capture_output=True,
        text=True,
    )


def _printed(result: subprocess.CompletedProcess[str]) -> tuple[str, str | None]:
    assert result.returncode == 0, result.stderr
    practice = re.search(r"^Practice: ([0-9a-f-]{36}) ", result.stdout, re.MULTILINE)
    link = re.search(r"^Link: (\S+)$", result.stdout, re.MULTILINE)
    assert practice, result.stdout
    return practice.group(1), link.group(1) if link else None


def _emailed_links(smtp) -> list[str]:
    return [
        found
        for received in smtp.received
        for found in re.findall(r"https://hearth\.example/join\?invitation=\S+", received.message.get_content())
    ]


async def test_the_operator_creates_a_group_practice_and_can_run_it_again(api, settings, database_url, smtp):
    args = ("--name", "Northside Counseling", "--admin-email", "Lee@Example.com", "--admin-name", "Lee Park")
    first = await _create_group(settings, database_url, smtp, *args)
    practice_id, link = _printed(first)
    assert "(Northside Counseling, created)" in first.stdout and "Emailed to lee@example.com." in first.stdout
    assert link is not None and link.startswith(f"{PUBLIC_URL}/join?invitation=")
    assert _emailed_links(smtp) == [link]
    assert smtp.received[0].message.get_content().startswith("Hello Lee Park,")
    conn = await asyncpg.connect(database_url)
    try:
        kind = await conn.fetchval("SELECT kind FROM practices WHERE id = $1", uuid.UUID(practice_id))
    finally:
        await conn.close()
    assert kind == "group"
    token = link.rpartition("=")[2]
    preview = await api.get(f"/api/v1/invitations/{token}")
    assert preview.json() == {
        "practice_name": "Northside Counseling",
        "role": "practice_admin",
        "email": "lee@example.com",
    }

    # Again (the email was lost, say): the same practice, a new link, and the old link stops working.
    second = await _create_group(settings, database_url, smtp, *args)
    again_id, new_link = _printed(second)
    assert again_id == practice_id and "(Northside Counseling, existing)" in second.stdout
    assert new_link is not None and new_link != link and _emailed_links(smtp) == [link, new_link]
    assert (await api.get(f"/api/v1/invitations/{token}")).json()["code"] == "invitation_revoked"

    accepted = await api.post(
        f"/api/v1/invitations/{new_link.rpartition('=')[2]}/accept",
        json={"email": "lee@example.com", "password": PASSWORD, "display_name": "Lee Park", "timezone": "UTC"},
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["role"] == "practice_admin" and accepted.json()["practice_id"] == practice_id

    # Once the admin has joined there is nothing left to do.
    third = await _create_group(settings, database_url, smtp, *args)
    third_id, no_link = _printed(third)
    assert third_id == practice_id and no_link is None and "admin of this practice already" in third.stdout
    assert len(_emailed_links(smtp)) == 2

    # An address with an account elsewhere cannot become the admin: accounts do not move between practices.
    client = await signed_up(api, "client")
    taken = await _create_group(
        settings, database_url, smtp, "--name", "Westside", "--admin-email", client.email, "--admin-name", "X"
    )
    assert taken.returncode == 1 and "email_taken" in taken.stderr
    conn = await asyncpg.connect(database_url)
    try:
        westside = await conn.fetchval("SELECT count(*) FROM practices WHERE name = 'Westside'")
    finally:
        await conn.close()
    assert westside == 0, "a refused run creates nothing"
