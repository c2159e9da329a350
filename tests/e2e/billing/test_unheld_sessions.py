"""A session that did not happen is never billed. The reviewer's scenario: a therapist marks a session booked two
days ahead checked in, then in progress, then ends it, and the client gets an invoice at once. Its variants (a
session marked in progress by an older release; a call where the two never overlapped), and the real path, which
still bills what was booked."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.scheduling.model import Modality
from tests.e2e.billing.conftest import Care, set_diagnoses
from tests.support.sessions import CHECK_IN, connect, recv, send
from tests.support.users import LoggedIn, relogin

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


async def _at(api, clock, moment: datetime, care: Care) -> None:
    clock.set(moment)
    await relogin(api, care.therapist, care.client)


async def _status(api, care: Care, status: str):
    return await api.post(
        f"/api/v1/appointments/{care.appointment['id']}/status", json={"status": status}, headers=care.therapist.headers
    )


async def _end(api, care: Care):
    return await api.post(f"/api/v1/appointments/{care.appointment['id']}/session/end", headers=care.therapist.headers)


async def _appointment(api, care: Care) -> dict:
    return (await api.get(f"/api/v1/appointments/{care.appointment['id']}", headers=care.client.headers)).json()


async def _nothing_billed(api, care: Care) -> None:
    charges = await api.get("/api/v1/charges", headers=care.therapist.headers)
    assert charges.status_code == 200 and charges.json()["items"] == [], charges.text
    invoices = await api.get("/api/v1/invoices", headers=care.client.headers)
    assert invoices.status_code == 200 and invoices.json()["items"] == [], invoices.text


async def _force_status(database_url: str, appointment_id: str, status: str) -> None:
    """What an older release let a therapist do through the status route (or any path that skipped the rules)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE appointments SET status = $2 WHERE id = $1", uuid.UUID(appointment_id), status)
    finally:
        await conn.close()


async def _join_then_leave(api, care: Care, user: LoggedIn) -> None:
    """`user` joins the call and hangs up; returns once the server has them out of it."""
    aid = care.appointment["id"]
    socket = await connect(api, str(api.base_url).rstrip("/"), user)
    try:
        await send(socket, type="session_join", appointment_id=aid)
        await recv(socket, "session_joined")
        await send(socket, type="session_leave", appointment_id=aid)
        for _ in range(100):
            session = await api.get(f"/api/v1/appointments/{aid}/session", headers=user.headers)
            if user.id not in session.json()["connected"]:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the leave never landed")
    finally:
        await socket.close()


async def test_a_session_two_days_ahead_cannot_be_started_ended_or_billed(api, clock, care):
    await _at(api, clock, START - timedelta(days=2), care)
    checked_in = await _status(api, care, "checked_in")
    assert checked_in.status_code == 422 and checked_in.json()["code"] == "outside_join_window", checked_in.text
    started = await _status(api, care, "in_progress")
    assert started.status_code == 409, started.text
    ended = await _end(api, care)
    assert ended.status_code == 409 and ended.json()["code"] == "session_not_started", ended.text
    assert (await _appointment(api, care))["status"] == "booked"
    await _nothing_billed(api, care)


async def test_a_session_left_checked_in_or_in_progress_by_hand_still_cannot_start_early_or_end(
    api, clock, care, database_url
):
    aid = care.appointment["id"]
    await _at(api, clock, START - timedelta(days=2), care)
    await _force_status(database_url, aid, "checked_in")
    started = await _status(api, care, "in_progress")
    assert started.status_code == 422 and started.json()["code"] == "outside_join_window", started.text
    # Within the window, with nobody in the session, it does not start either: the no-show check then finds it.
    await _at(api, clock, START + timedelta(minutes=5), care)
    nobody = await _status(api, care, "in_progress")
    assert nobody.status_code == 409 and nobody.json()["code"] == "session_not_held", nobody.text
    assert (await _appointment(api, care))["status"] == "checked_in"
    await _force_status(database_url, aid, "in_progress")
    ended = await _end(api, care)
    assert ended.status_code == 409 and ended.json()["code"] == "session_not_held", ended.text
    # Marked completed by hand, it is refused alike: a completion by hand is the same settlement as the end.
    completed = await _status(api, care, "completed")
    assert completed.status_code == 409 and completed.json()["code"] == "session_not_held", completed.text
    assert (await _appointment(api, care))["status"] == "in_progress"
    await _nothing_billed(api, care)


async def test_a_call_where_the_two_never_overlapped_ends_at_no_charge(api, clock, care):
    aid = care.appointment["id"]
    await _at(api, clock, START - timedelta(minutes=5), care)
    check_in = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert check_in.status_code == 200, check_in.text
    assert (await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)).is_success
    await _join_then_leave(api, care, care.therapist)
    await _at(api, clock, START + timedelta(minutes=2), care)
    await _join_then_leave(api, care, care.client)
    assert (await _appointment(api, care))["status"] == "checked_in"  # never both in the call
    await _at(api, clock, START + timedelta(minutes=10), care)
    started = await _status(api, care, "in_progress")  # both did come: the therapist may record the start
    assert started.status_code == 200, started.text
    ended = await _end(api, care)
    assert ended.status_code == 200, ended.text
    assert (await _appointment(api, care))["status"] == "completed"
    [charge] = (await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]
    assert charge["amount"]["amount_minor"] == 0 and charge["coding"]["procedure"] is None
    assert (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"] == []


async def _held_for_fifty_minutes(api, clock, care: Care) -> None:
    """The client checks in, both are in the call from the start for 50 minutes, then hang up."""
    aid = care.appointment["id"]
    await _at(api, clock, START - timedelta(minutes=2), care)
    check_in = await api.post(f"/api/v1/appointments/{aid}/check-in", json=CHECK_IN, headers=care.client.headers)
    assert check_in.status_code == 200, check_in.text
    assert (await api.post(f"/api/v1/appointments/{aid}/session/admit", headers=care.therapist.headers)).is_success
    base = str(api.base_url).rstrip("/")
    sockets = [await connect(api, base, care.therapist), await connect(api, base, care.client)]
    try:
        clock.set(START)
        for socket in sockets:
            await send(socket, type="session_join", appointment_id=aid)
            await recv(socket, "session_joined")
        assert (await _appointment(api, care))["status"] == "in_progress"
        await _at(api, clock, START + timedelta(minutes=50), care)
    finally:
        for socket in sockets:
            await socket.close()


async def _audited(database_url: str, appointment_id: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT action FROM audit_events WHERE object_id = $1 AND action IN ($2, $3)",
            appointment_id,
            "session.end",
            "appointment.completed",
        )
    finally:
        await conn.close()
    return [r["action"] for r in rows]


@pytest.mark.parametrize("how", ["live end", "marked completed"])
async def test_a_session_both_attended_is_coded_from_its_minutes_and_invoiced(api, clock, care, database_url, how):
    """Ended in the session or marked completed by hand, a held session is settled alike: one charge coded from
    the connected minutes, one invoice, one `session.end` in the audit trail."""
    await set_diagnoses(api, care, ["F41.1"])
    await _held_for_fifty_minutes(api, clock, care)
    done = await (_end(api, care) if how == "live end" else _status(api, care, "completed"))
    assert done.status_code == 200, done.text
    assert (await _appointment(api, care))["status"] == "completed"
    session = await api.get(f"/api/v1/appointments/{care.appointment['id']}/session", headers=care.therapist.headers)
    assert session.json()["ended_at"] is not None, session.text
    [charge] = (await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]
    assert charge["coding"]["procedure"] == "90834-95" and charge["coding"]["psychotherapy_minutes"] == 50
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    assert invoice["status"] == "open" and invoice["amount"]["amount_minor"] == 15000
    assert invoice["service_date"] == "2026-12-01"
    assert await _audited(database_url, care.appointment["id"]) == ["session.end"]


@pytest.mark.parametrize("first", ["live end", "marked completed"])
async def test_marking_an_ended_session_completed_again_charges_nothing_more(api, clock, care, first):
    await _held_for_fifty_minutes(api, clock, care)
    done = await (_end(api, care) if first == "live end" else _status(api, care, "completed"))
    assert done.status_code == 200, done.text
    await _at(api, clock, START + timedelta(minutes=55), care)
    again = await _status(api, care, "completed")
    assert again.status_code == 200 and again.json()["status"] == "completed", again.text
    ended = await _end(api, care)
    assert ended.status_code == 409 and ended.json()["code"] == "session_ended", ended.text
    [charge] = (await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]
    assert charge["coding"]["psychotherapy_minutes"] == 50
    assert len((await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]) == 1


async def test_a_chat_session_the_client_checked_in_to_is_completed_by_hand_as_its_end_would(api, clock, care):
    """Chat has no call to join: the client who checked in came, and the session completes from `checked_in`."""
    aid = care.appointment["id"]
    await _at(api, clock, START - timedelta(minutes=2), care)
    not_alone = {**CHECK_IN, "private": False}  # "not alone today": the session becomes chat
    check_in = await api.post(f"/api/v1/appointments/{aid}/check-in", json=not_alone, headers=care.client.headers)
    assert check_in.status_code == 200, check_in.text
    await _at(api, clock, START + timedelta(minutes=30), care)
    assert (await _appointment(api, care))["status"] == "checked_in"
    done = await _status(api, care, "completed")
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    [charge] = (await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]
    assert charge["coding"]["chat_minutes"] == 32, charge


@pytest.mark.parametrize("how", ["live end", "marked completed"])
async def test_a_crash_right_after_the_settling_commit_still_leaves_the_session_charged(
    api, clock, care, container, monkeypatch, how
):
    """The charge commits with the completion: a failure once the end is committed (here the first thing after
    the commit raises) cannot leave a held session unbilled, and nothing retried later bills it twice."""
    await _held_for_fifty_minutes(api, clock, care)
    crashes: list[str] = []

    async def crash(*_: object) -> None:
        crashes.append("after the commit")
        raise RuntimeError("the process died right after the commit")

    monkeypatch.setattr(container.sessions, "_after_settling", crash)
    done = await (_end(api, care) if how == "live end" else _status(api, care, "completed"))
    assert done.status_code == 500 and crashes == ["after the commit"], done.text
    monkeypatch.undo()
    assert (await _appointment(api, care))["status"] == "completed"
    [charge] = (await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]
    assert charge["coding"]["psychotherapy_minutes"] == 50 and charge["amount"]["amount_minor"] == 15000
    [invoice] = (await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]
    assert invoice["status"] == "open" and invoice["amount"]["amount_minor"] == 15000

    # Whatever is retried after the crash charges nothing more: marking it completed again, and billing's own
    # recording of the session (twice).
    again = await _status(api, care, "completed")
    assert again.status_code == 200, again.text
    aid = uuid.UUID(care.appointment["id"])
    for _ in range(2):
        view = await container.billing.record_completed_session(aid, {Modality.VIDEO: 50}, True, clock.now())
        assert str(view.charge.id) == charge["id"] and str(view.invoice.id) == invoice["id"]
    assert len((await api.get("/api/v1/charges", headers=care.therapist.headers)).json()["items"]) == 1
    assert len((await api.get("/api/v1/invoices", headers=care.client.headers)).json()["items"]) == 1
