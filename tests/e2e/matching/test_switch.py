"""Switching therapist in one step: the current therapist is left out of new suggestions; choosing another ends
the old relationship (future sessions cancelled by the practice, never late; the conversation read-only) and
moves the therapy plan only with the client's explicit consent (audited)."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.e2e.clinical.test_plans_and_notes import plan_body
from tests.e2e.matching.conftest import choose, submitted, suggestions, therapist
from tests.support.users import signed_up


async def _in_care_with_plan(api):
    first = await therapist(api, "Dr. First", specialties=["anxiety", "grief"])
    second = await therapist(api, "Dr. Second", specialties=["anxiety"])
    client = await signed_up(api, "client", display_name="Kim Client")
    await submitted(api, client)
    match = await suggestions(api, client)
    assert match["suggestions"][0]["therapist_id"] == first.id
    await choose(api, client, match, first.id)
    plan = await api.put(
        f"/api/v1/clients/{client.id}/plan", json=plan_body(), headers={**first.headers, "If-Match": '"v0"'}
    )
    assert plan.status_code == 200, plan.text
    booked = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": first.id, "start": "2026-12-08T15:00:00Z", "duration_minutes": 50, "modality": "video"},
        headers=client.headers,
    )
    assert booked.status_code == 201, booked.text
    soon = await api.post(
        "/api/v1/appointments",
        json={"therapist_id": first.id, "start": "2026-11-30T19:00:00Z", "duration_minutes": 50, "modality": "video"},
        headers=client.headers,
    )
    assert soon.status_code == 201, soon.text
    return first, second, client, booked.json(), soon.json()


@pytest.mark.parametrize("consent", [False, True])
async def test_switch_ends_the_old_care_and_moves_records_only_with_consent(api, database_url, consent):
    first, second, client, appointment, soon = await _in_care_with_plan(api)
    waiting = await signed_up(api, "client")
    joined = await api.post(
        f"/api/v1/therapists/{first.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
    )
    assert joined.status_code == 201, joined.text

    again = await suggestions(api, client)
    offered = [s["therapist_id"] for s in again["suggestions"]]
    assert first.id not in offered, "the current therapist is never suggested on a switch"
    assert second.id in offered

    switched = await choose(api, client, again, second.id, transfer_records=consent)
    assert switched["previous_therapist_id"] == first.id
    assert switched["records_transferred"] is consent
    me = (await api.get("/api/v1/me", headers=client.headers)).json()
    assert me["practice_id"] == second.practice_id, "the client is now in the new therapist's practice"

    old = (await api.get(f"/api/v1/appointments/{appointment['id']}", headers=client.headers)).json()
    assert (old["status"], old["cancelled_by"]) == ("cancelled", "practice"), "the old therapist's future session"
    inside = (await api.get(f"/api/v1/appointments/{soon['id']}", headers=client.headers)).json()
    assert (inside["status"], inside["cancelled_by"]) == ("cancelled", "practice"), (
        "inside the 24-hour window too: a switch is not the client missing a session"
    )
    offers = (await api.get("/api/v1/waitlist/offers", headers=waiting.headers)).json()["items"]
    assert {appointment["start"], soon["start"]} <= {o["start"] for o in offers}, "the freed times go to the waitlist"

    conversations = (await api.get("/api/v1/conversations", headers=client.headers)).json()["items"]
    by_therapist = {c["therapist_id"]: c for c in conversations}
    assert by_therapist[first.id]["closed"] is True and by_therapist[second.id]["closed"] is False
    refused = await api.post(
        f"/api/v1/conversations/{by_therapist[first.id]['id']}/messages",
        json={"client_message_id": "after-switch", "body": "Hello?"},
        headers=client.headers,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "conversation_closed"
    spec = (await api.get("/openapi.json")).json()
    declared = spec["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]["responses"]
    assert "409" in declared, "the contract names this refusal, so generated clients know it"
    history = await api.get(f"/api/v1/conversations/{by_therapist[first.id]['id']}/messages", headers=client.headers)
    assert history.status_code == 200 and history.json()["items"], "the old conversation stays readable"

    new_view = await api.get(f"/api/v1/clients/{client.id}/plan", headers=second.headers)
    old_view = await api.get(f"/api/v1/clients/{client.id}/plan", headers=first.headers)
    if consent:
        assert new_view.status_code == 200
        assert new_view.json()["document"]["goals"][0]["text"] == "Sleep through the night"
        assert old_view.status_code == 404, "the plan moved: the old therapist no longer has it"
    else:
        assert new_view.status_code == 404, "without consent the new therapist sees no record"
        assert old_view.status_code == 200, "without consent the record stays with the therapist who kept it"

    conn = await asyncpg.connect(database_url)
    try:
        actions = {
            r["action"]
            for r in await conn.fetch(
                "SELECT action FROM audit_events WHERE actor_id = $1 OR object_id = $2", uuid.UUID(client.id), client.id
            )
        }
        care = await conn.fetch(
            "SELECT therapist_id, ended_at FROM care_relationships WHERE client_id = $1", uuid.UUID(client.id)
        )
    finally:
        await conn.close()
    assert ("records.transfer" in actions) is consent
    assert {"care.end", "match.choose"} <= actions
    ended = {str(r["therapist_id"]): r["ended_at"] for r in care}
    assert ended[first.id] is not None and ended[second.id] is None


async def test_after_a_switch_the_old_therapists_questionnaires_are_no_longer_answered(api):
    # A risk answer to the old therapist's PHQ-9 would alert a therapist the client has left, and not the new one.
    first, second, client, _appointment, _soon = await _in_care_with_plan(api)
    assigned = await api.post(
        f"/api/v1/clients/{client.id}/measures",
        json={"instrument": "phq9", "frequency": "every_n_days", "interval_days": 7},
        headers=first.headers,
    )
    assert assigned.status_code == 201, assigned.text
    await choose(api, client, await suggestions(api, client), second.id)

    listed = (await api.get(f"/api/v1/clients/{client.id}/measures", headers=client.headers)).json()["items"]
    assert [(a["id"], a["due_now"]) for a in listed] == [(assigned.json()["id"], False)]
    answered = await api.post(
        f"/api/v1/measure-assignments/{assigned.json()['id']}/responses",
        json={"answers": {f"q{i}": 2 for i in range(1, 10)}},
        headers=client.headers,
    )
    assert answered.status_code == 409 and answered.json()["code"] == "assignment_ended"
    alerts = await api.get("/api/v1/safety-alerts", headers=first.headers)
    assert alerts.status_code == 200 and alerts.json()["items"] == []


@pytest.mark.parametrize("consent", [False, True])
async def test_automatic_assignment_switches_and_moves_records_only_with_consent(api, consent):
    first, second, client, appointment, _soon = await _in_care_with_plan(api)
    assigned = await api.post(
        "/api/v1/matches", json={"mode": "automatic", "transfer_records": consent}, headers=client.headers
    )
    assert assigned.status_code == 201, assigned.text
    match = assigned.json()
    assert (match["therapist_id"], match["previous_therapist_id"]) == (second.id, first.id)
    assert match["records_transferred"] is consent
    old = (await api.get(f"/api/v1/appointments/{appointment['id']}", headers=client.headers)).json()
    assert old["status"] == "cancelled"
    new_view = await api.get(f"/api/v1/clients/{client.id}/plan", headers=second.headers)
    assert new_view.status_code == (200 if consent else 404)
