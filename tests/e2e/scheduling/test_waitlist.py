"""Waitlist: freed time is offered to matching clients in order; claims race through the booking path."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from api.main import create_app
from infra.db.repositories.scheduling import SqlWaitlistRepository
from tests.e2e.scheduling.conftest import booking
from tests.support.server import serve
from tests.support.smtp_server import smtp_server
from tests.support.users import relogin, signed_up


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def application(settings, clock, smtp):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    configured = settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            # A refused email's job is retried within the same `_run_jobs`, not 30 real seconds later.
            "jobs_retry_initial_seconds": 0,
        }
    )
    return create_app(configured, clock=clock)


@pytest.fixture
async def api(application):
    async with serve(application) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def _run_jobs(application, clock) -> int:
    return int(await application.state.container.worker.drain(until=clock.now()))


async def _join(api, therapist, client, **prefs):
    body = {"durations": [50], **prefs}
    response = await api.post(f"/api/v1/therapists/{therapist.id}/waitlist", json=body, headers=client.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_cancellation_offers_the_time_to_matching_clients(api, application, clock, therapist, smtp):
    holder = await signed_up(api, "client")
    first, second = await signed_up(api, "client"), await signed_up(api, "client")
    mondays_only = await signed_up(api, "client")
    await _join(api, therapist, first)
    await _join(api, therapist, second)
    await _join(api, therapist, mondays_only, weekdays=[1])  # 10 Dec 2026 is a Thursday
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)

    for client in (first, second):
        offers = (await api.get("/api/v1/waitlist/offers", headers=client.headers)).json()["items"]
        assert [(o["start"], o["duration_minutes"]) for o in offers] == [("2026-12-10T15:00:00Z", 50)]
    assert (await api.get("/api/v1/waitlist/offers", headers=mondays_only.headers)).json()["items"] == []
    assert (await api.get("/api/v1/waitlist/offers", headers=holder.headers)).json()["items"] == []
    assert await _run_jobs(application, clock) == 2, "one email job per offer"
    notified = sorted(r.rcpt_tos[0] for r in smtp.received)
    assert notified == sorted([first.email, second.email])
    text = smtp.received[0].message.get_body(("plain",)).get_content()
    assert "opened up" in text


@pytest.mark.parametrize("change", ["cancel", "reschedule"])
async def test_a_refused_offer_email_fails_neither_the_change_nor_the_offer(
    api, application, clock, therapist, smtp, change
):
    holder = await signed_up(api, "client")
    first, second = await signed_up(api, "client"), await signed_up(api, "client")
    await _join(api, therapist, first)
    await _join(api, therapist, second)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    smtp.collector.rcpt_reply, smtp.collector.refuse_times = "451 4.7.1 Greylisted, come back later", 1
    if change == "cancel":
        changed = await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
    else:
        changed = await api.post(
            f"/api/v1/appointments/{booked['id']}/reschedule",
            json={"start": "2026-12-11T15:00:00Z"},
            headers=holder.headers,
        )
    assert changed.status_code == 200, changed.text
    for client in (first, second):
        offers = (await api.get("/api/v1/waitlist/offers", headers=client.headers)).json()["items"]
        assert [o["start"] for o in offers] == ["2026-12-10T15:00:00Z"]
    assert (smtp.received, smtp.collector.refused) == ([], 0), "nothing is sent inside the request"

    assert await _run_jobs(application, clock) == 3, "one of the two refused once, then retried"
    assert smtp.collector.refused == 1
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted([first.email, second.email])
    assert await _run_jobs(application, clock) == 0, "each sent once"


@pytest.mark.parametrize("change", ["cancel", "reschedule"])
async def test_offers_are_made_in_the_changes_transaction_so_a_failure_loses_neither(
    api, application, clock, therapist, smtp, database_url, monkeypatch, change
):
    """The offers and their email jobs are written in the transaction of the change that freed the time: when
    writing them fails (here the second offer's insert, after the first went in), the change is refused and
    nothing of it stays; the retry then makes the change, the offers and the emails. Before, the change committed
    first and the offers, made afterwards in their own transaction, were lost with only a log line."""
    holder = await signed_up(api, "client")
    first, second = await signed_up(api, "client"), await signed_up(api, "client")
    await _join(api, therapist, first)
    await _join(api, therapist, second)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    real_add_offer = SqlWaitlistRepository.add_offer
    calls = []

    async def failing_second(self, offer, now):
        calls.append(offer.id)
        if len(calls) == 2:
            raise ConnectionResetError("the database went away while the offers were written")
        await real_add_offer(self, offer, now)

    monkeypatch.setattr(SqlWaitlistRepository, "add_offer", failing_second)

    async def make_change():
        if change == "cancel":
            return await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
        return await api.post(
            f"/api/v1/appointments/{booked['id']}/reschedule",
            json={"start": "2026-12-11T15:00:00Z"},
            headers=holder.headers,
        )

    failed = await make_change()
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error", failed.text
    assert len(calls) == 2, "the first offer was written before the failure"
    appointment = (await api.get(f"/api/v1/appointments/{booked['id']}", headers=holder.headers)).json()
    assert (appointment["status"], appointment["start"]) == ("booked", "2026-12-10T15:00:00Z"), "the change rolled back"
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM waitlist_offers") == 0
    finally:
        await conn.close()
    assert await _run_jobs(application, clock) == 0, "no email job for an offer that does not exist"

    monkeypatch.setattr(SqlWaitlistRepository, "add_offer", real_add_offer)
    retried = await make_change()
    assert retried.status_code == 200, retried.text
    for client in (first, second):
        offers = (await api.get("/api/v1/waitlist/offers", headers=client.headers)).json()["items"]
        assert [o["start"] for o in offers] == ["2026-12-10T15:00:00Z"]
    assert await _run_jobs(application, clock) == 2
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted([first.email, second.email])


async def test_an_offer_expired_before_its_email_went_out_is_not_emailed(api, application, clock, therapist, smtp):
    holder, waiting = await signed_up(api, "client"), await signed_up(api, "client")
    await _join(api, therapist, waiting)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
    clock.set(datetime(2026, 11, 27, 15, 16, tzinfo=UTC))  # past the 15-minute claim window
    assert await _run_jobs(application, clock) == 1
    assert smtp.received == [], "no invitation to a time that can no longer be claimed"


async def test_two_clients_claim_at_once_and_one_wins(api, therapist, database_url):
    holder = await signed_up(api, "client")
    alice, bob = await signed_up(api, "client"), await signed_up(api, "client")
    await _join(api, therapist, alice)
    await _join(api, therapist, bob)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
    offer_a = (await api.get("/api/v1/waitlist/offers", headers=alice.headers)).json()["items"][0]
    offer_b = (await api.get("/api/v1/waitlist/offers", headers=bob.headers)).json()["items"][0]
    claims = await asyncio.gather(
        api.post(f"/api/v1/waitlist/offers/{offer_a['id']}/claim", headers=alice.headers),
        api.post(f"/api/v1/waitlist/offers/{offer_b['id']}/claim", headers=bob.headers),
    )
    assert sorted(c.status_code for c in claims) == [201, 409]
    loser = next(c for c in claims if c.status_code == 409)
    assert loser.json()["code"] == "slot_taken"
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM appointments WHERE status = 'booked'") == 1
    finally:
        await conn.close()


async def test_an_expired_offer_cannot_be_claimed(api, therapist, clock):
    holder, waiting = await signed_up(api, "client"), await signed_up(api, "client")
    await _join(api, therapist, waiting)
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
    offer = (await api.get("/api/v1/waitlist/offers", headers=waiting.headers)).json()["items"][0]
    clock.set(datetime(2026, 11, 27, 15, 16, tzinfo=UTC))
    await relogin(api, waiting)
    late = await api.post(f"/api/v1/waitlist/offers/{offer['id']}/claim", headers=waiting.headers)
    assert late.status_code == 409 and late.json()["code"] == "offer_expired"


async def test_offers_are_private_and_entries_are_listed(api, therapist):
    holder, waiting, stranger = (
        await signed_up(api, "client"),
        await signed_up(api, "client"),
        await signed_up(api, "client"),
    )
    entry = await _join(api, therapist, waiting, weekdays=[4], time_ranges=[{"start": "09:00", "end": "12:00"}])
    booked = (
        await api.post("/api/v1/appointments", json=booking(therapist, "2026-12-10T15:00:00Z"), headers=holder.headers)
    ).json()
    await api.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}, headers=holder.headers)
    offer = (await api.get("/api/v1/waitlist/offers", headers=waiting.headers)).json()["items"][0]
    stolen = await api.post(f"/api/v1/waitlist/offers/{offer['id']}/claim", headers=stranger.headers)
    assert stolen.status_code == 404
    listed = (await api.get("/api/v1/waitlist", headers=therapist.headers)).json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]
    assert (await api.delete(f"/api/v1/waitlist/{entry['id']}", headers=stranger.headers)).status_code == 404
    assert (await api.delete(f"/api/v1/waitlist/{entry['id']}", headers=waiting.headers)).status_code == 204
    again = await api.post(
        f"/api/v1/therapists/{therapist.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
    )
    assert again.status_code == 201


async def test_joining_twice_is_a_conflict(api, therapist):
    client = await signed_up(api, "client")
    await _join(api, therapist, client)
    again = await api.post(
        f"/api/v1/therapists/{therapist.id}/waitlist", json={"durations": [50]}, headers=client.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already_waitlisted"
