"""Plans, progress notes and psychotherapy notes over HTTP: versions, signing locks, addenda, access."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.e2e.clinical.conftest import Care, in_care
from tests.support.sessions import attend
from tests.support.users import relogin, signed_up

GOAL = str(uuid.uuid4())
OBJECTIVE = str(uuid.uuid4())


def plan_body(goal_status: str = "in_progress", text: str = "Sleep through the night") -> dict:
    return {
        "problems": ["Low mood, poor sleep"],
        "goals": [
            {
                "id": GOAL,
                "text": text,
                "status": goal_status,
                "target_date": "2027-03-01",
                "objectives": [
                    {
                        "id": OBJECTIVE,
                        "text": "PHQ-9 below 10",
                        "status": "not_started",
                        "target_date": "2027-03-01",
                        "score_target": {"instrument": "phq9", "comparison": "<", "value": 10},
                    }
                ],
            }
        ],
        "interventions": [{"text": "Behavioural activation", "frequency": "weekly"}],
        "review_date": "2027-01-15",
    }


async def _plan(api, care: Care, **kwargs) -> dict:
    response = await api.put(
        f"/api/v1/clients/{care.client.id}/plan",
        json=plan_body(**kwargs),
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def complete(api, care: Care, clock) -> str:
    appointment_id = care.appointment["id"]
    url = f"/api/v1/appointments/{appointment_id}/status"
    clock.set(datetime(2026, 12, 1, 15, 55, tzinfo=UTC))
    await relogin(api, care.therapist, care.client)
    await attend(api, appointment_id, care.therapist, care.client)
    assert (await api.post(url, json={"status": "completed"}, headers=care.therapist.headers)).status_code == 200
    return appointment_id


SOAP = {"subjective": "Slept better", "objective": "Calm", "assessment": "Improving", "plan": "Continue"}


async def test_plan_versions_and_client_acknowledgement(api, care):
    first = await _plan(api, care)
    assert first["version"] == 1
    stale = await api.put(
        f"/api/v1/clients/{care.client.id}/plan",
        json=plan_body(text="Other"),
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    assert stale.status_code == 412
    for odd in ('"v²"'.encode("latin-1"), b'"v99999999999"', b'"v2147483648"'):
        # A superscript digit passes str.isdigit; past the integer column's range no version exists.
        refused = await api.put(
            f"/api/v1/clients/{care.client.id}/plan",
            json=plan_body(text="Other"),
            headers={**care.therapist.headers, "If-Match": odd},
        )
        assert refused.status_code == 412 and refused.json()["code"] == "precondition_failed", refused.text
    beyond = await api.get(f"/api/v1/clients/{care.client.id}/plan/versions/2147483648", headers=care.therapist.headers)
    assert beyond.status_code == 422, beyond.text
    second = await api.put(
        f"/api/v1/clients/{care.client.id}/plan",
        json=plan_body(text="Sleep 7 hours"),
        headers={**care.therapist.headers, "If-Match": '"v1"'},
    )
    assert second.status_code == 200 and second.json()["version"] == 2
    old = (await api.get(f"/api/v1/clients/{care.client.id}/plan/versions/1", headers=care.therapist.headers)).json()
    assert old["document"]["goals"][0]["text"] == "Sleep through the night"
    seen = await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.client.headers)
    assert seen.status_code == 200 and seen.json()["document"]["goals"][0]["text"] == "Sleep 7 hours"
    edit = await api.put(
        f"/api/v1/clients/{care.client.id}/plan", json=plan_body(), headers={**care.client.headers, "If-Match": '"v2"'}
    )
    assert edit.status_code == 403, "clients read their plan but never edit it"
    ack = await api.post(
        f"/api/v1/clients/{care.client.id}/plan/acknowledgement", json={"version": 2}, headers=care.client.headers
    )
    assert ack.status_code == 201
    assert (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.client.headers)).json()[
        "acknowledged_at"
    ]


async def test_acknowledging_a_version_again_returns_the_first_acknowledgement(api, care, clock, database_url):
    await _plan(api, care)
    url = f"/api/v1/clients/{care.client.id}/plan/acknowledgement"
    first = await api.post(url, json={"version": 1}, headers=care.client.headers)
    assert first.status_code == 201, first.text
    clock.advance(minutes=5)
    await relogin(api, care.client)
    again = await api.post(url, json={"version": 1}, headers=care.client.headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json(), "the existing acknowledgement, its time included"
    conn = await asyncpg.connect(database_url)
    try:
        acks = await conn.fetchval("SELECT count(*) FROM plan_acknowledgements")
        audited = await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'plan.acknowledge'")
    finally:
        await conn.close()
    assert (acks, audited) == (1, 1), "nothing new is written"
    plan = (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.client.headers)).json()
    assert plan["acknowledged_at"] == first.json()["acknowledged_at"]


async def test_a_signed_note_is_locked_and_feeds_the_plan(api, care, clock):
    await _plan(api, care)
    appointment_id = await complete(api, care, clock)
    note_url = f"/api/v1/appointments/{appointment_id}/note"
    body = {
        "template": "soap",
        "fields": SOAP,
        "ratings": [{"goal_id": GOAL, "rating": "progressing", "comment": "Good week"}],
    }
    draft = await api.put(note_url, json=body, headers={**care.therapist.headers, "If-Match": '"v0"'})
    assert draft.status_code == 200, draft.text
    note = draft.json()
    assert note["state"] == "draft"
    signed = await api.post(f"/api/v1/notes/{note['id']}/sign", headers=care.therapist.headers)
    assert signed.status_code == 200 and signed.json()["state"] == "signed" and len(signed.json()["content_hash"]) == 64
    locked = await api.put(
        note_url, json=body, headers={**care.therapist.headers, "If-Match": f'"v{signed.json()["version"]}"'}
    )
    assert locked.status_code == 409 and locked.json()["code"] == "note_signed"
    addendum = await api.post(
        f"/api/v1/notes/{note['id']}/addenda", json={"text": "Client called after."}, headers=care.therapist.headers
    )
    assert addendum.status_code == 201
    final = (await api.get(note_url, headers=care.therapist.headers)).json()
    assert [a["text"] for a in final["addenda"]] == ["Client called after."]
    assert final["content_hash"] == signed.json()["content_hash"] and final["document"]["fields"] == SOAP

    plan = (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.client.headers)).json()
    assert [(p["goal_id"], p["rating"]) for p in plan["progress"]] == [(GOAL, "progressing")]
    assert plan["progress"][0]["comment"] == "", "the client sees the rating, not the note's comment"
    therapist_view = (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.therapist.headers)).json()
    assert therapist_view["progress"][0]["comment"] == "Good week"


async def test_notes_need_a_completed_session_and_complete_fields_to_sign(api, care, clock):
    early = await api.put(
        f"/api/v1/appointments/{care.appointment['id']}/note",
        json={"template": "free", "fields": {"text": "x"}, "ratings": []},
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    assert early.status_code == 409 and early.json()["code"] == "session_not_completed"
    appointment_id = await complete(api, care, clock)
    partial = await api.put(
        f"/api/v1/appointments/{appointment_id}/note",
        json={"template": "dap", "fields": {"data": "Some data"}, "ratings": []},
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    assert partial.status_code == 200
    sign = await api.post(f"/api/v1/notes/{partial.json()['id']}/sign", headers=care.therapist.headers)
    assert sign.status_code == 422 and sign.json()["code"] == "note_incomplete"


async def test_the_client_and_other_practices_read_no_note(api, care, clock):
    other = await in_care(api)
    appointment_id = await complete(api, care, clock)
    await relogin(api, other.therapist, other.client)
    await api.put(
        f"/api/v1/appointments/{appointment_id}/note",
        json={"template": "free", "fields": {"text": "Private"}, "ratings": []},
        headers={**care.therapist.headers, "If-Match": '"v0"'},
    )
    assert (
        await api.get(f"/api/v1/appointments/{appointment_id}/note", headers=care.client.headers)
    ).status_code == 404
    assert (
        await api.get(f"/api/v1/appointments/{appointment_id}/note", headers=other.therapist.headers)
    ).status_code == 404
    assert (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=other.therapist.headers)).status_code == 404
    assert (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=other.client.headers)).status_code == 404


async def test_missing_notes_show_up_after_72_hours(api, care, clock):
    appointment_id = await complete(api, care, clock)
    assert (await api.get("/api/v1/notes/todo", headers=care.therapist.headers)).json()["items"] == []
    clock.set(datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
    await relogin(api, care.therapist)
    todo = (await api.get("/api/v1/notes/todo", headers=care.therapist.headers)).json()["items"]
    assert [(t["appointment_id"], t["reason"]) for t in todo] == [(appointment_id, "missing")]


async def test_psychotherapy_notes_are_for_their_author_only(api, care):
    created = await api.post(
        f"/api/v1/clients/{care.client.id}/psychotherapy-notes",
        json={"text": "Process note"},
        headers=care.therapist.headers,
    )
    assert created.status_code == 201
    note_id = created.json()["id"]
    mine = await api.get(f"/api/v1/psychotherapy-notes/{note_id}", headers=care.therapist.headers)
    assert mine.status_code == 200 and mine.json()["text"] == "Process note"
    edited = await api.put(
        f"/api/v1/psychotherapy-notes/{note_id}",
        json={"text": "Edited"},
        headers={**care.therapist.headers, "If-Match": mine.headers["etag"]},
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stranger = await signed_up(api, "therapist")
    assert (await api.get(f"/api/v1/psychotherapy-notes/{note_id}", headers=stranger.headers)).status_code == 404
    assert (await api.get(f"/api/v1/psychotherapy-notes/{note_id}", headers=care.client.headers)).status_code == 404
    for client_id in (care.client.id, uuid.uuid4()):  # someone else's client, and nobody: both do not exist
        listed = await api.get(f"/api/v1/clients/{client_id}/psychotherapy-notes", headers=stranger.headers)
        assert listed.status_code == 404 and listed.json()["code"] == "not_found"
    listed = await api.get(f"/api/v1/clients/{care.client.id}/psychotherapy-notes", headers=care.client.headers)
    assert listed.status_code == 403  # the route is for therapists
    empty = await in_care(api)  # a client in the caller's care without notes yet: an empty list
    none_yet = await api.get(f"/api/v1/clients/{empty.client.id}/psychotherapy-notes", headers=empty.therapist.headers)
    assert none_yet.status_code == 200 and none_yet.json()["items"] == []
    assert (
        await api.post(
            f"/api/v1/clients/{care.client.id}/psychotherapy-notes", json={"text": "x"}, headers=stranger.headers
        )
    ).status_code == 404


async def test_a_psychotherapy_note_links_only_a_session_of_that_client_with_its_author(api, care):
    url = f"/api/v1/clients/{care.client.id}/psychotherapy-notes"
    body = {"text": "After the session", "appointment_id": care.appointment["id"]}
    linked = await api.post(url, json=body, headers=care.therapist.headers)
    assert linked.status_code == 201, linked.text
    assert linked.json()["appointment_id"] == care.appointment["id"]
    other = await in_care(api)  # another therapist's client and session
    for appointment_id in (str(uuid.uuid4()), other.appointment["id"]):
        refused = await api.post(
            url, json={"text": "x", "appointment_id": appointment_id}, headers=care.therapist.headers
        )
        assert refused.status_code == 404 and refused.json()["code"] == "appointment_not_found", refused.text


async def test_psychotherapy_reads_are_audited(api, care, database_url):
    import asyncpg

    created = await api.post(
        f"/api/v1/clients/{care.client.id}/psychotherapy-notes",
        json={"text": "Process note"},
        headers=care.therapist.headers,
    )
    for _ in range(2):
        await api.get(f"/api/v1/psychotherapy-notes/{created.json()['id']}", headers=care.therapist.headers)
    conn = await asyncpg.connect(database_url)
    try:
        reads = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'psychotherapy_note.read' AND object_id = $1",
            created.json()["id"],
        )
    finally:
        await conn.close()
    assert reads == 2


@pytest.mark.parametrize("field", ["problems"])
async def test_plan_validation_errors_name_the_field(api, care, field):
    body = plan_body()
    body[field] = ["x" * 2001]
    response = await api.put(
        f"/api/v1/clients/{care.client.id}/plan", json=body, headers={**care.therapist.headers, "If-Match": '"v0"'}
    )
    assert response.status_code == 422


async def test_scores_move_objectives_with_a_numeric_target(api, care):
    await _plan(api, care)
    assignment = (
        await api.post(
            f"/api/v1/clients/{care.client.id}/measures",
            json={"instrument": "phq9", "frequency": "every_n_days", "interval_days": 1},
            headers=care.therapist.headers,
        )
    ).json()

    async def answer(value: int) -> dict:
        await api.post(
            f"/api/v1/measure-assignments/{assignment['id']}/responses",
            json={"answers": {f"q{i}": value for i in range(1, 9)} | {"q9": 0}},
            headers=care.client.headers,
        )
        return (await api.get(f"/api/v1/clients/{care.client.id}/plan", headers=care.therapist.headers)).json()

    high = await answer(3)  # total 24: not yet below 10
    assert high["version"] == 2 and high["document"]["goals"][0]["objectives"][0]["status"] == "in_progress"
    low = await answer(1)  # total 8 < 10: achieved
    assert low["version"] == 3 and low["document"]["goals"][0]["objectives"][0]["status"] == "achieved"
    same = await answer(1)
    assert same["version"] == 3, "no new version when nothing changes"
