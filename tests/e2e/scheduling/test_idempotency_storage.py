"""How booking answers are kept for Idempotency-Key replays: sealed, still replayed from rows written in plain
text before the answers were sealed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from api.main import create_app
from tests.e2e.scheduling.conftest import booking, ny
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.users import signed_up

URL = "/api/v1/appointments"


@pytest.fixture
async def app(settings, clock):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    application = create_app(settings, clock=clock)
    async with serve(application) as url:
        yield application, url


@pytest.fixture
async def api(app):
    async with httpx.AsyncClient(base_url=app[1], timeout=60) as client:
        yield client


@pytest.fixture
def container(app):
    return app[0].state.container


@pytest.fixture
async def db(database_url):
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def test_a_plain_answer_from_before_sealing_still_replays(api, db):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    headers = {**client.headers, "Idempotency-Key": "from-last-week"}
    body = booking(therapist, ny(3, 10))
    first = await api.post(URL, json=body, headers=headers)
    assert first.status_code == 201, first.text
    # The row as the code before revision 0016 wrote it: the answer in plain JSON, nothing sealed.
    await db.execute(
        "UPDATE idempotency_keys SET response = $1::jsonb, sealed_response = NULL, data_key_id = NULL",
        json.dumps(first.json()),
    )
    again = await api.post(URL, json=body, headers=headers)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
