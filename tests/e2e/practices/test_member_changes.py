"""Bringing a removed member back and changing a member's role over the real API, database and WebSocket (ADR 21):
the member signs in afresh (a role change ends their sessions, whose tokens carry the old role), a therapist is
found and booked again or no longer, what a removal ended stays ended, and the guards (last admin, a therapist's
clients, a removed member) hold. Authorization and the race with a booking are with ADR 18's in test_members.py."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.e2e.practices.conftest import (
    Group,
    change_role,
    client_in_care,
    deactivate,
    group_practice,
    join_staff,
    rows,
)
from tests.support.scheduling import publish_hours, publish_profile
from tests.support.users import LoggedIn, login, signed_up

TIMEOUT = 10


def _reactivate(api, group: Group, user_id: str):
    return api.post(f"/api/v1/practices/{group.practice_id}/members/{user_id}/reactivate", headers=group.admin.headers)


async def _signed_in(api, member: LoggedIn) -> LoggedIn:
    """`member` signed in afresh: the token the server issues now."""
    fresh = await login(api, member.email)
    assert fresh.status_code == 200, fresh.text
    me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"})
    return LoggedIn(
        member.id,
        member.email,
        me.json()["role"],
        fresh.json()["access_token"],
        fresh.json()["refresh_token"],
        member.practice_id,
    )


async def _actions(database_url: str, practice_id: str, like: str) -> list[tuple[str, str, str]]:
    """The practice's audit events whose action is `LIKE like`: (action, actor, object), oldest first."""
    found = await rows(
        database_url,
        "SELECT action, actor_id, object_id FROM audit_events WHERE practice_id = $1::uuid AND action LIKE $2"
        " ORDER BY seq",
        practice_id,
        like,
    )
    return [(r["action"], str(r["actor_id"]), r["object_id"]) for r in found]


async def test_a_therapist_brought_back_signs_in_afresh_and_is_booked_again_but_their_care_stays_ended(
    app, api, smtp, database_url
):
    group = await group_practice(app, api, "Hazel Group", "hazel-admin@example.com")
    back = await join_staff(api, smtp, group, "back@example.com")
    await publish_profile(api, back, display_name="Dr. Back", licenses=["US-OH"])
    await publish_hours(api, back)
    client = await client_in_care(api, group, back, "Cam Cared-For")
    [conversation] = (await api.get("/api/v1/conversations", headers=client.headers)).json()["items"]
    assert (await deactivate(api, group, back.id)).status_code == 200

    brought = await _reactivate(api, group, back.id)
    assert brought.status_code == 200, brought.text
    assert brought.json()["id"] == back.id
    assert (brought.json()["status"], brought.json()["deactivated_at"]) == ("active", None)
    [kept] = await rows(database_url, "SELECT deactivated_by FROM users WHERE id = $1::uuid", back.id)
    assert kept["deactivated_by"] is None

    # The sessions the removal ended stay ended; a fresh sign-in works.
    old = await api.post("/api/v1/auth/refresh", json={"refresh_token": back.refresh_token})
    assert old.status_code == 401, old.text
    again = await _signed_in(api, back)
    assert again.role == "therapist"

    # Listed and bookable again, by the client their care with whom ended: that care stays ended.
    listed = (await api.get("/api/v1/therapists", headers=client.headers)).json()["items"]
    assert [t["therapist_id"] for t in listed] == [back.id]
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    closed = await api.post(path, json={"client_message_id": "back", "body": "Hello?"}, headers=client.headers)
    assert closed.status_code == 409 and closed.json()["code"] == "conversation_closed"
    care = await rows(
        database_url,
        "SELECT ended_at IS NOT NULL AS ended FROM care_relationships WHERE therapist_id = $1::uuid",
        back.id,
    )
    assert [r["ended"] for r in care] == [True]
    queue = await api.get(f"/api/v1/practices/{group.practice_id}/match-queue", headers=group.admin.headers)
    assert [i["client_name"] for i in queue.json()["items"]] == ["Cam Cared-For"], "the client still waits"
    booked = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": back.id, "start": "2026-12-01T15:00:00Z", "duration_minutes": 50, "modality": "video"},
        headers=client.headers,
    )
    assert booked.status_code == 201, booked.text

    twice = await _reactivate(api, group, back.id)
    assert twice.status_code == 200 and twice.json()["status"] == "active", "bringing back an active member: no-op"
    assert await _actions(database_url, group.practice_id, "user.%activate") == [
        ("user.deactivate", group.admin.id, back.id),
        ("user.reactivate", group.admin.id, back.id),
    ]


async def test_a_role_change_signs_the_member_out_and_the_new_role_holds_from_their_next_sign_in(
    app, api, smtp, database_url
):
    group = await group_practice(app, api, "Linden Group", "linden-admin@example.com")
    invited = await join_staff(api, smtp, group, "meant-as-admin@example.com")
    await publish_profile(api, invited, display_name="Dr. Meant", licenses=["US-OH"])
    waiting = await signed_up(api, "client", display_name="Wes Waiting")
    on_list = await api.post(
        f"/api/v1/therapists/{invited.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
    )
    assert on_list.status_code == 201, on_list.text

    alone = await change_role(api, group, group.admin.id, "therapist")
    assert alone.status_code == 409 and alone.json()["code"] == "last_admin", alone.text

    ticket = (await api.post("/api/v1/ws-tickets", headers=invited.headers)).json()["ticket"]
    socket = await websockets.connect(f"{app[1].replace('http://', 'ws://')}/api/v1/ws?ticket={ticket}")
    await socket.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"] == "pong"

    made = await change_role(api, group, invited.id, "practice_admin")
    assert made.status_code == 200, made.text
    assert made.json()["member"]["role"] == "practice_admin"
    assert (made.json()["sessions_revoked"], made.json()["waitlist_entries_closed"]) == (1, 1)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd.code == 4401
    stale = await api.get("/api/v1/therapists/me/profile", headers=invited.headers)
    assert stale.status_code == 401 and stale.json()["code"] == "session_revoked", "the old role's token, at once"
    old = await api.post("/api/v1/auth/refresh", json={"refresh_token": invited.refresh_token})
    assert old.status_code == 401, "the token of the old role cannot be refreshed"
    assert (await api.get("/api/v1/waitlist", headers=waiting.headers)).json()["items"] == []
    assert (await api.get("/api/v1/therapists", headers=waiting.headers)).json()["items"] == [], "no longer listed"
    profile = await api.get(f"/api/v1/therapists/{invited.id}", headers=waiting.headers)
    assert profile.status_code == 404, "nor shown as a therapist"

    new_admin = await _signed_in(api, invited)
    assert new_admin.role == "practice_admin"
    listed = await api.get(f"/api/v1/practices/{group.practice_id}/members", headers=new_admin.headers)
    assert listed.status_code == 200, listed.text
    same = await change_role(api, group, invited.id, "practice_admin")
    assert same.status_code == 200 and same.json()["sessions_revoked"] == 0, "the role they have changes nothing"
    assert (await api.get("/api/v1/me", headers=new_admin.headers)).status_code == 200, "still signed in"

    # The first admin hands over and becomes a therapist; the new admin, now the last, cannot.
    handed = await change_role(api, group, group.admin.id, "therapist", by=new_admin)
    assert handed.status_code == 200 and handed.json()["sessions_revoked"] == 1, handed.text
    first = await _signed_in(api, group.admin)
    assert first.role == "therapist"
    assert (await api.get("/api/v1/therapists/me/profile", headers=first.headers)).status_code == 200
    last = await change_role(api, group, invited.id, "therapist", by=new_admin)
    assert last.status_code == 409 and last.json()["code"] == "last_admin", last.text

    assert await _actions(database_url, group.practice_id, "user.role_change.%") == [
        ("user.role_change.practice_admin", group.admin.id, invited.id),
        ("user.role_change.therapist", invited.id, group.admin.id),
    ]


async def test_a_therapist_who_has_had_clients_keeps_the_role_and_a_removed_member_keeps_theirs(app, api, smtp):
    group = await group_practice(app, api, "Alder Group", "alder-admin@example.com")
    treating = await join_staff(api, smtp, group, "treating@example.com")
    await publish_profile(api, treating, display_name="Dr. Treating", licenses=["US-OH"])
    await publish_hours(api, treating)
    await client_in_care(api, group, treating, "Kit Cared-For")

    refused = await change_role(api, group, treating.id, "practice_admin")
    assert refused.status_code == 409 and refused.json()["code"] == "has_client_records", refused.text
    still = await api.post("/api/v1/auth/refresh", json={"refresh_token": treating.refresh_token})
    assert still.status_code == 200, "nothing changed: their session goes on"

    assert (await deactivate(api, group, treating.id)).status_code == 200
    removed = await change_role(api, group, treating.id, "practice_admin")
    assert removed.status_code == 409 and removed.json()["code"] == "member_deactivated", removed.text
    assert (await _reactivate(api, group, treating.id)).status_code == 200
    ended = await change_role(api, group, treating.id, "practice_admin")
    assert ended.status_code == 409 and ended.json()["code"] == "has_client_records", "care that ended counts too"
    members = await api.get(f"/api/v1/practices/{group.practice_id}/members", headers=group.admin.headers)
    assert {m["email"]: m["role"] for m in members.json()["items"]}["treating@example.com"] == "therapist"
    bad = await change_role(api, group, treating.id, "client")
    assert bad.status_code == 422, bad.text
