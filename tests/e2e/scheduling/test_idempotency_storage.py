"""How booking answers are kept for Idempotency-Key replays: sealed, still replayed from rows written in plain
text before the answers were sealed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from api.main import create_app
from tests.e2e.scheduling.conftest import booking, ny
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.users import LoggedIn, relogin, signed_up

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
    # The row as the code before revision 0017 wrote it: the answer in plain JSON, nothing sealed.
    await db.execute(
        "UPDATE idempotency_keys SET response = $1::jsonb, sealed_response = NULL, data_key_id = NULL",
        json.dumps(first.json()),
    )
    again = await api.post(URL, json=body, headers=headers)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()


async def test_an_error_stored_before_whole_answers_were_still_replays(api, db):
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    headers = {**client.headers, "Idempotency-Key": "refused-last-week"}
    body = booking(therapist, ny(3, 10), minutes=45)
    first = await api.post(URL, json=body, headers=headers)
    assert first.status_code == 422, first.text
    # An error as the code before kept it: its code and detail only.
    legacy = {"code": first.json()["code"], "detail": first.json()["detail"]}
    await db.execute(
        "UPDATE idempotency_keys SET response = $1::jsonb, sealed_response = NULL, data_key_id = NULL",
        json.dumps(legacy),
    )
    again = await api.post(URL, json=body, headers=headers)
    assert again.status_code == 422 and again.headers.get("idempotent-replayed") == "true"
    assert {k: again.json()[k] for k in legacy} == legacy


async def _booked(api, key: str, days: int = 3) -> tuple[LoggedIn, LoggedIn, httpx.Response]:
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client")
    first = await api.post(URL, json=booking(therapist, ny(days, 10)), headers=_with_key(client, key))
    assert first.status_code == 201, first.text
    return therapist, client, first


def _with_key(user: LoggedIn, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


async def test_a_key_is_replayed_until_its_retention_ends_then_is_a_new_request(api, clock, settings):
    assert settings.idempotency_retention_hours == 24
    therapist, client, first = await _booked(api, "a-day")
    clock.advance(hours=23, minutes=59)
    await relogin(api, client)
    headers = _with_key(client, "a-day")
    replayed = await api.post(URL, json=booking(therapist, ny(3, 10)), headers=headers)
    assert replayed.headers.get("idempotent-replayed") == "true" and replayed.content == first.content
    reused = await api.post(URL, json=booking(therapist, ny(3, 14)), headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"

    clock.advance(minutes=1)
    # Past the retention the key is forgotten, swept or not: another body under it is a new booking...
    other = await api.post(URL, json=booking(therapist, ny(3, 14)), headers=headers)
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    # ...and that new answer is what the key replays from now on.
    again = await api.post(URL, json=booking(therapist, ny(3, 14)), headers=headers)
    assert again.headers.get("idempotent-replayed") == "true" and again.content == other.content


async def test_the_periodic_sweep_deletes_expired_keys_and_their_data_keys(api, clock, container, db):
    await _booked(api, "old")
    clock.advance(hours=12)
    await _booked(api, "young", days=4)
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 2
    key_ids = [r[0] for r in await db.fetch("SELECT data_key_id FROM idempotency_keys")]
    assert await db.fetchval("SELECT count(*) FROM data_keys WHERE id = ANY($1)", key_ids) == 2

    await container.start_upkeep()  # what `hearth serve` (with the in-process worker) and `hearth worker` do
    await container.start_upkeep()  # a second process starting: still one sweep
    assert await container.worker.drain(until=clock.now()) == 1, "the first sweep runs at once"
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 2, "nothing has expired yet"

    clock.advance(hours=12)  # "old" is 24 hours old, "young" 12
    assert await container.worker.drain(until=clock.now()) == 1, "the hourly sweep that is due now"
    assert [r["key"] for r in await db.fetch("SELECT key FROM idempotency_keys")] == ["young"]
    assert await db.fetchval("SELECT count(*) FROM data_keys WHERE id = ANY($1)", key_ids) == 1
    queued = await db.fetch(
        "SELECT headers->>'hearth_due_at' AS due FROM jobs.pgqueuer WHERE entrypoint = 'idempotency.sweep'"
        " AND status = 'queued'"
    )
    assert [row["due"] for row in queued] == [(clock.now().replace(minute=0) + timedelta(hours=1)).isoformat()]


async def test_the_sweep_seals_plain_answers_from_before_and_they_still_replay(api, clock, container, db):
    therapist, client, first = await _booked(api, "from-before")
    headers = _with_key(client, "from-before")
    await db.execute(
        "UPDATE idempotency_keys SET response = $1::jsonb, sealed_response = NULL, data_key_id = NULL",
        json.dumps(first.json()),
    )
    await container.start_upkeep()
    await container.worker.drain(until=clock.now())
    [row] = await db.fetch("SELECT t::text AS dump, response FROM idempotency_keys t")
    assert row["response"] is None and first.json()["id"] not in row["dump"]
    again = await api.post(URL, json=booking(therapist, ny(3, 10)), headers=headers)
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
