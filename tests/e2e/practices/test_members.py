"""Removing staff from a group practice over the real API, database and WebSocket (ADR 18): the removed account
cannot sign in or refresh, its live sockets close with 4401, its clients go back to the practice's queue with
their conversation kept read-only, and the guards (last admin, booked sessions, other practices, roles) hold."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from infra.db.repositories.scheduling import therapist_lock_key
from tests.e2e.clinical.test_plans_and_notes import plan_body
from tests.e2e.practices.conftest import (
    change_role,
    client_in_care,
    deactivate,
    group_practice,
    join_staff,
    rows,
)
from tests.support.locks import held
from tests.support.scheduling import publish_hours, publish_profile
from tests.support.users import login, signed_up

TIMEOUT = 10


async def test_a_removed_therapist_is_signed_out_everywhere_and_their_clients_wait_again(app, api, smtp, database_url):
    group = await group_practice(app, api, "Willow Group", "willow-admin@example.com")
    leaving = await join_staff(api, smtp, group, "leaving@example.com")
    await publish_profile(api, leaving, display_name="Dr. Leaving", licenses=["US-OH"])
    await publish_hours(api, leaving)
    client = await client_in_care(api, group, leaving, "Ann Cared-For")
    [conversation] = (await api.get("/api/v1/conversations", headers=client.headers)).json()["items"]

    ticket = (await api.post("/api/v1/ws-tickets", headers=leaving.headers)).json()["ticket"]
    socket = await websockets.connect(f"{app[1].replace('http://', 'ws://')}/api/v1/ws?ticket={ticket}")
    await socket.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "pong"

    removed = await deactivate(api, group, leaving.id)
    assert removed.status_code == 200, removed.text
    body = removed.json()
    assert body["member"]["status"] == "deactivated" and body["member"]["id"] == leaving.id
    assert (body["care_ended"], body["clients_queued"], body["sessions_revoked"]) == (1, 1, 1)

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 5)  # well inside the 15 s between the socket's own checks
    assert closed.value.rcvd.code == 4401
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/ws-tickets")):
        refused = await api.request(method, path, headers=leaving.headers)  # an access token issued before
        assert refused.status_code == 401 and refused.json()["code"] == "session_revoked", (path, refused.text)
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": leaving.refresh_token})
    assert refresh.status_code == 401 and refresh.json()["code"] == "account_deactivated"
    signin = await login(api, leaving.email)
    assert signin.status_code == 401 and signin.json()["code"] == "account_deactivated"
    wrong = await login(api, leaving.email, "not-the-password-at-all")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials", "says nothing without it"

    # The practice's records stay; the client waits in the practice's queue and may read, not send.
    assert (await api.get("/api/v1/therapists", headers=client.headers)).json()["items"] == []
    queue = await api.get(f"/api/v1/practices/{group.practice_id}/match-queue", headers=group.admin.headers)
    assert [i["client_name"] for i in queue.json()["items"]] == ["Ann Cared-For"]
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    assert (await api.get(path, headers=client.headers)).status_code == 200
    refused = await api.post(path, json={"client_message_id": "after", "body": "Hello?"}, headers=client.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "conversation_closed"
    kept = await rows(
        database_url, "SELECT deactivated_at IS NOT NULL AS off FROM users WHERE id = $1::uuid", leaving.id
    )
    assert [r["off"] for r in kept] == [True], "the account is kept, not deleted"
    members = await api.get(f"/api/v1/practices/{group.practice_id}/members", headers=group.admin.headers)
    assert {m["email"]: (m["role"], m["status"]) for m in members.json()["items"]} == {
        "willow-admin@example.com": ("practice_admin", "active"),
        "leaving@example.com": ("therapist", "deactivated"),
    }

    # Whoever the practice assigns next takes the client.
    successor = await join_staff(api, smtp, group, "successor@example.com")
    await publish_profile(api, successor, display_name="Dr. Next", licenses=["US-OH"])
    await publish_hours(api, successor)
    assigned = await api.post(
        f"/api/v1/practices/{group.practice_id}/match-queue/assignments", headers=group.admin.headers
    )
    assert [p["therapist_id"] for p in assigned.json()["placements"]] == [successor.id]

    again = await deactivate(api, group, leaving.id)
    assert again.status_code == 200 and again.json()["sessions_revoked"] == 0, "removing again changes nothing"
    trail = await rows(
        database_url,
        "SELECT action, actor_id, object_id FROM audit_events WHERE practice_id = $1::uuid"
        " AND action IN ('user.deactivate', 'care.end') ORDER BY seq",
        group.practice_id,
    )
    assert [(r["action"], str(r["actor_id"])) for r in trail] == [
        ("care.end", group.admin.id),
        ("user.deactivate", group.admin.id),
    ]
    assert trail[1]["object_id"] == leaving.id


async def test_a_therapist_with_booked_sessions_stays_until_they_are_moved(app, api, smtp):
    group = await group_practice(app, api, "Birch Group", "birch-admin@example.com")
    busy = await join_staff(api, smtp, group, "busy@example.com")
    await publish_profile(api, busy, display_name="Dr. Busy", licenses=["US-OH"])
    await publish_hours(api, busy)
    client = await client_in_care(api, group, busy, "Booked Client")
    ids = []
    for start in ("2026-12-01T15:00:00Z", "2026-12-02T15:00:00Z"):
        booked = await api.post(
            "/api/v1/appointments",
            json={"therapist_id": busy.id, "start": start, "duration_minutes": 50, "modality": "video"},
            headers=client.headers,
        )
        assert booked.status_code == 201, booked.text
        ids.append(booked.json()["id"])

    refused = await deactivate(api, group, busy.id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "has_upcoming_appointments"
    assert refused.json()["upcoming_appointments"] == 2
    assert (await login(api, busy.email)).status_code == 200, "nothing changed"

    for appointment_id in ids:
        cancelled = await api.post(
            f"/api/v1/appointments/{appointment_id}/cancel", json={"reason": "Moving"}, headers=busy.headers
        )
        assert cancelled.status_code == 200, cancelled.text
    feed = await api.post("/api/v1/calendar-feeds", headers=busy.headers)
    feed_path = "/api/v1/" + feed.json()["url"].split("/api/v1/", 1)[1]
    assert (await api.get(feed_path)).status_code == 200
    assert (await deactivate(api, group, busy.id)).status_code == 200
    assert (await api.get(feed_path)).status_code == 404, "the feed's address stops working too"
    late = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": busy.id, "start": "2026-12-03T15:00:00Z", "duration_minutes": 50, "modality": "video"},
        headers=client.headers,
    )
    assert late.status_code == 404, "a removed therapist cannot be booked"


async def test_the_last_admin_cannot_be_removed(app, api, smtp):
    # Nothing here needs the bus; without it, only the removal itself can make this process refuse a token.
    await app[0].state.container.bus.stop()
    group = await group_practice(app, api, "Cedar Group", "cedar-admin@example.com")
    alone = await deactivate(api, group, group.admin.id)
    assert alone.status_code == 409 and alone.json()["code"] == "last_admin", alone.text

    second = await join_staff(api, smtp, group, "second-admin@example.com", role="practice_admin")
    by_second = await deactivate(api, group, group.admin.id, by=second)
    assert by_second.status_code == 200, by_second.text
    removed = await api.get("/api/v1/me", headers=group.admin.headers)
    assert removed.status_code == 401 and removed.json()["code"] == "session_revoked", "at once, with no bell"
    itself = await deactivate(api, group, second.id, by=second)
    assert itself.status_code == 409 and itself.json()["code"] == "last_admin", "nor remove themself as the last"
    assert (await login(api, second.email)).status_code == 200


async def test_two_admins_removing_each_other_at_once_leave_one(app, api, smtp, database_url):
    """ADR 18: the practice row's lock serialises staff changes. Both removals are held in flight at once, before
    either counts the admins (we hold the practice row, and the two accounts too, so they would wait there if the
    code took no practice lock), then let go together: the first to wait removes the other; the second then finds
    the admin it removes to be the last (it was authenticated before the first removal committed)."""
    group = await group_practice(app, api, "Aspen Group", "aspen-admin@example.com")
    first = group.admin
    second = await join_staff(api, smtp, group, "aspen-second@example.com", role="practice_admin")
    async with held(
        database_url,
        ("SELECT 1 FROM practices WHERE id = $1 FOR UPDATE", uuid.UUID(group.practice_id)),
        ("SELECT 1 FROM users WHERE id = ANY($1::uuid[]) FOR UPDATE", [uuid.UUID(first.id), uuid.UUID(second.id)]),
    ) as locks:
        removing_second = asyncio.create_task(deactivate(api, group, second.id, by=first))
        await locks.waiting(1)
        removing_first = asyncio.create_task(deactivate(api, group, first.id, by=second))
        await locks.waiting(2)
    won, lost = await removing_second, await removing_first
    assert won.status_code == 200, won.text
    assert lost.status_code == 409 and lost.json()["code"] == "last_admin", lost.text
    members = await api.get(f"/api/v1/practices/{group.practice_id}/members", headers=first.headers)
    assert members.status_code == 200, members.text
    assert {(m["id"], m["status"]) for m in members.json()["items"]} == {
        (first.id, "active"),
        (second.id, "deactivated"),
    }


async def _change_and_booking_in_turn(
    app, api, smtp, database_url, change: str, *, booking_first: bool, then_join: bool = False
):
    """A therapist's removal or promotion and a client's booking of them, queued in that order (or the other) for
    the booking lock, which we hold until both wait on it: (the member, the change's answer, the booking's). With
    `then_join`, another client's joining of the therapist's waitlist queues last, and its answer comes fourth."""
    group = await group_practice(app, api, "Alder Group", "alder-admin@example.com")
    member = await join_staff(api, smtp, group, "alder-member@example.com")
    await publish_profile(api, member, display_name="Dr. Alder", licenses=["US-OH"])
    await publish_hours(api, member)
    client = await signed_up(api, "client")
    joiner = await signed_up(api, "client") if then_join else None
    booking = {"therapist_id": member.id, "start": "2026-12-01T15:00:00Z", "duration_minutes": 50, "modality": "video"}

    def changing():
        if change == "removal":
            return deactivate(api, group, member.id)
        return change_role(api, group, member.id, "practice_admin")

    def booked():
        return api.post("/api/v1/appointments", json=booking, headers=client.headers)

    key = therapist_lock_key(uuid.UUID(member.id))
    async with held(database_url, ("SELECT pg_advisory_xact_lock($1)", key)) as locks:
        first = asyncio.create_task(booked() if booking_first else changing())
        await locks.waiting(1)
        second = asyncio.create_task(changing() if booking_first else booked())
        await locks.waiting(2)
        if joiner is not None:
            joined = asyncio.create_task(
                api.post(f"/api/v1/therapists/{member.id}/waitlist", json={"durations": [50]}, headers=joiner.headers)
            )
            await locks.waiting(3)
    one, two = await first, await second
    answers = (member, two, one) if booking_first else (member, one, two)
    return (*answers, await joined) if joiner is not None else answers


@pytest.mark.parametrize("change", ["removal", "promotion"])
async def test_a_booking_that_waited_on_a_therapists_removal_or_promotion_finds_no_therapist(
    app, api, smtp, database_url, change
):
    """ADR 18 and 21: the removal, and making the therapist an admin, take the booking lock before they count the
    therapist's sessions (or look for clients), and a booking re-reads the therapist under that lock. We hold the
    lock while the change, then a booking that has already seen the therapist, then a waitlist join, queue for it:
    the change goes first and the booking and the join must then refuse, not book a session or open a waitlist
    entry (after the change closed the ones it saw) for a therapist who is gone or an admin now. The bus is
    stopped: only the change itself can make this process refuse the member's token, and it does at once."""
    await app[0].state.container.bus.stop()
    leaving, changed, refused, not_joined = await _change_and_booking_in_turn(
        app, api, smtp, database_url, change, booking_first=False, then_join=True
    )
    assert changed.status_code == 200, changed.text
    assert refused.status_code == 404 and refused.json()["code"] == "not_found", refused.text
    assert not_joined.status_code == 404 and not_joined.json()["code"] == "not_found", not_joined.text
    assert await rows(database_url, "SELECT id FROM appointments WHERE therapist_id = $1", uuid.UUID(leaving.id)) == []
    assert (
        await rows(
            database_url,
            "SELECT id FROM waitlist_entries WHERE therapist_id = $1 AND removed_at IS NULL",
            uuid.UUID(leaving.id),
        )
        == []
    )
    stale = await api.get("/api/v1/me", headers=leaving.headers)
    assert stale.status_code == 401 and stale.json()["code"] == "session_revoked", "at once, with no bell"


@pytest.mark.parametrize(
    ("change", "code"), [("removal", "has_upcoming_appointments"), ("promotion", "has_client_records")]
)
async def test_a_removal_or_promotion_that_waited_on_a_booking_sees_the_session_it_booked(
    app, api, smtp, database_url, change, code
):
    """The other order: a booking holds the booking lock when the change, holding the member's row, queues for it.
    The booking's insert checks its foreign key to the therapist's row (a KEY SHARE lock), which a plain FOR UPDATE
    on that row blocks: the two waited on each other and PostgreSQL aborted the change with a 500. Now the booking
    books and the change, once it has the lock, refuses because of the session."""
    staying, refused, made = await _change_and_booking_in_turn(app, api, smtp, database_url, change, booking_first=True)
    assert made.status_code == 201, made.text
    assert refused.status_code == 409 and refused.json()["code"] == code, refused.text
    assert (await api.get("/api/v1/me", headers=staying.headers)).status_code == 200, "nothing changed for them"


async def test_other_practices_and_other_roles_are_refused(app, api, smtp):
    group = await group_practice(app, api, "Maple Group", "maple-admin@example.com")
    other = await group_practice(app, api, "Elm Group", "elm-admin@example.com")
    therapist = await join_staff(api, smtp, group, "maple-therapist@example.com")
    client = await signed_up(api, "client")
    members = f"/api/v1/practices/{group.practice_id}/members"
    changes = (("POST", "deactivate", None), ("POST", "reactivate", None), ("PUT", "role", {"role": "practice_admin"}))
    calls = [("GET", members, None)] + [(m, f"{members}/{therapist.id}/{action}", b) for m, action, b in changes]
    for method, path, body in calls:
        foreign = await api.request(method, path, json=body, headers=other.admin.headers)
        assert foreign.status_code == 404 and foreign.json()["code"] == "not_found", (path, foreign.text)
        staff = await api.request(method, path, json=body, headers=therapist.headers)
        assert staff.status_code == 403 and staff.json()["code"] == "forbidden", (path, staff.text)
        assert (await api.request(method, path, json=body, headers=client.headers)).status_code == 403
        assert (await api.request(method, path, json=body)).status_code == 401
    # An admin's own practice in the path reaches neither another practice's member nor a client.
    for admin, practice_id, user_id in (
        (other.admin, other.practice_id, therapist.id),
        (group.admin, group.practice_id, client.id),
    ):
        for method, action, body in changes:
            path = f"/api/v1/practices/{practice_id}/members/{user_id}/{action}"
            refused = await api.request(method, path, json=body, headers=admin.headers)
            assert refused.status_code == 404 and refused.json()["code"] == "not_found", (path, refused.text)
    assert (await login(api, therapist.email)).status_code == 200
    mine = await api.get(members, headers=group.admin.headers)
    assert [m["role"] for m in mine.json()["items"] if m["id"] == therapist.id] == ["therapist"], "nothing changed"


def _emails_to(smtp, email: str) -> list:
    return [r.message for r in smtp.received if email in r.rcpt_tos]


async def test_a_removed_therapists_waitlist_closes_and_each_waiting_client_is_told(app, api, smtp, database_url):
    group = await group_practice(app, api, "Aspen Group", "aspen-admin@example.com")
    leaving = await join_staff(api, smtp, group, "leaving-wl@example.com")
    await publish_profile(api, leaving, display_name="Dr. Lee Leaving", licenses=["US-OH"])
    await publish_hours(api, leaving)
    cared_for = await client_in_care(api, group, leaving, "Cara Cared-For")
    staying = await join_staff(api, smtp, group, "staying-wl@example.com")
    waiting = await signed_up(api, "client", display_name="Wren Waiting")
    entries = {}
    for therapist in (leaving, staying):
        joined_list = await api.post(
            f"/api/v1/therapists/{therapist.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
        )
        assert joined_list.status_code == 201, joined_list.text
        entries[therapist.id] = joined_list.json()["id"]
    # A session with the leaving therapist is cancelled: its time is offered to the waiting client.
    booked = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": leaving.id, "start": "2026-12-01T15:00:00Z", "duration_minutes": 50, "modality": "video"},
        headers=cared_for.headers,
    )
    assert booked.status_code == 201, booked.text
    cancelled = await api.post(
        f"/api/v1/appointments/{booked.json()['id']}/cancel", json={"reason": None}, headers=cared_for.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    [offer] = (await api.get("/api/v1/waitlist/offers", headers=waiting.headers)).json()["items"]

    removed = await deactivate(api, group, leaving.id)
    assert removed.status_code == 200, removed.text
    assert removed.json()["waitlist_entries_closed"] == 1

    left = (await api.get("/api/v1/waitlist", headers=waiting.headers)).json()["items"]
    assert [e["id"] for e in left] == [entries[staying.id]], "only the removed therapist's entry closes"
    assert (await api.get("/api/v1/waitlist/offers", headers=waiting.headers)).json()["items"] == []
    claim = await api.post(f"/api/v1/waitlist/offers/{offer['id']}/claim", headers=waiting.headers)
    assert claim.status_code == 409 and claim.json()["code"] == "offer_expired", claim.text
    rejoin = await api.post(
        f"/api/v1/therapists/{leaving.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
    )
    assert rejoin.status_code == 404, "a removed therapist's waitlist cannot be joined again"
    closed = await rows(
        database_url,
        "SELECT removed_at IS NOT NULL AS closed FROM waitlist_entries WHERE therapist_id = $1::uuid",
        leaving.id,
    )
    assert [r["closed"] for r in closed] == [True], "closed, not deleted"

    await app[0].state.container.worker.drain(until=app[0].state.container.clock.now())
    [told] = _emails_to(smtp, waiting.email)  # the withdrawn offer's email is not sent
    assert told["Subject"] == "A waitlist you were on has closed"
    text = told.get_content()
    assert "Lee can no longer be booked" in text and "https://hearth.example/client/therapists" in text
    assert "Cara" not in text and "Wren" not in text, "names only the therapist: nothing about anyone's care"
    assert _emails_to(smtp, cared_for.email) == [], "a client not on the waitlist is not told"


async def test_a_requeued_clients_plan_moves_to_the_therapist_the_batch_assigns(app, api, smtp, database_url):
    group = await group_practice(app, api, "Poplar Group", "poplar-admin@example.com")
    leaving = await join_staff(api, smtp, group, "leaving-plan@example.com")
    await publish_profile(api, leaving, display_name="Dr. Former", licenses=["US-OH"])
    await publish_hours(api, leaving)
    client = await client_in_care(api, group, leaving, "Pat Planned")
    plan = await api.put(
        f"/api/v1/clients/{client.id}/plan", json=plan_body(), headers={**leaving.headers, "If-Match": '"v0"'}
    )
    assert plan.status_code == 200, plan.text
    assert (await deactivate(api, group, leaving.id)).status_code == 200

    successor = await join_staff(api, smtp, group, "successor-plan@example.com")
    await publish_profile(api, successor, display_name="Dr. Successor", licenses=["US-OH"])
    await publish_hours(api, successor)
    before = await api.get(f"/api/v1/clients/{client.id}/plan", headers=successor.headers)
    assert before.status_code == 404, "not their client yet"
    assigned = await api.post(
        f"/api/v1/practices/{group.practice_id}/match-queue/assignments", headers=group.admin.headers
    )
    assert assigned.status_code == 201, assigned.text
    assert [p["therapist_id"] for p in assigned.json()["placements"]] == [successor.id]

    moved = await api.get(f"/api/v1/clients/{client.id}/plan", headers=successor.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["document"]["goals"][0]["text"] == "Sleep through the night"
    mine = await api.get(f"/api/v1/clients/{client.id}/plan", headers=client.headers)
    assert mine.status_code == 200 and mine.json()["document"]["goals"][0]["text"] == "Sleep through the night"
    transfers = await rows(
        database_url,
        "SELECT actor_id FROM audit_events WHERE practice_id = $1::uuid AND action = 'records.transfer'"
        " AND object_id = $2",
        group.practice_id,
        client.id,
    )
    assert [str(r["actor_id"]) for r in transfers] == [group.admin.id], "the move is audited, by the admin"
