"""A practice's waiting queue: batch assignment preview (nothing persisted) and confirmation (care starts),
never over a therapist's room (capacity minus current caseload); access is the practice's admins only."""

from __future__ import annotations

import uuid

import asyncpg

from tests.e2e.matching.conftest import fresh_login, into_practice, submitted, therapist
from tests.support.users import signed_up


async def _queued(api, practice_id: str, name: str, **answers):
    client = await signed_up(api, "client", display_name=name)
    await submitted(api, client, **answers)
    response = await api.post(
        "/api/v1/matches", json={"mode": "queue", "practice_id": practice_id}, headers=client.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    return client


async def test_batch_preview_then_confirm_respects_capacity(api, database_url, clock):
    owner = await therapist(api, "Dr. Owner", specialties=["anxiety", "grief"], caseload_capacity=1)
    colleague = await therapist(api, "Dr. Colleague", specialties=["sleep"], caseload_capacity=1)
    outsider = await therapist(api, "Dr. Outsider", specialties=["anxiety", "grief"])
    practice = owner.practice_id
    admin = await signed_up(api, "therapist", display_name="Pat Admin")
    await into_practice(database_url, practice, colleague)
    await into_practice(database_url, practice, admin, role="practice_admin")
    admin = await fresh_login(api, admin, role="practice_admin")
    assert admin.practice_id == practice

    a = await _queued(api, practice, "Ann", concerns=["anxiety", "grief"])
    clock.advance(minutes=1)
    b = await _queued(api, practice, "Bo", concerns=["sleep"])
    clock.advance(minutes=1)
    c = await _queued(api, practice, "Cy", concerns=["grief"])

    queue = await api.get(f"/api/v1/practices/{practice}/match-queue", headers=admin.headers)
    assert queue.status_code == 200, queue.text
    assert [i["client_name"] for i in queue.json()["items"]] == ["Ann", "Bo", "Cy"]

    preview = await api.post(f"/api/v1/practices/{practice}/match-queue/preview", headers=admin.headers)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["confirmed"] is False and plan["assigned"] == 2
    by_client = {p["client_id"]: p for p in plan["placements"]}
    assert by_client[a.id]["therapist_id"] == owner.id and by_client[b.id]["therapist_id"] == colleague.id
    assert by_client[c.id]["outcome"] == "room_taken" and by_client[c.id]["therapist_id"] is None
    assert "specializes in anxiety and grief" in by_client[a.id]["reasons"]
    assert outsider.id not in {p["therapist_id"] for p in plan["placements"]}, "only the practice's therapists"
    still = (await api.get(f"/api/v1/practices/{practice}/match-queue", headers=admin.headers)).json()["items"]
    assert len(still) == 3, "a preview changes nothing"

    confirmed = await api.post(f"/api/v1/practices/{practice}/match-queue/assignments", headers=admin.headers)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["confirmed"] is True and confirmed.json()["assigned"] == 2
    left = (await api.get(f"/api/v1/practices/{practice}/match-queue", headers=admin.headers)).json()["items"]
    assert [i["client_name"] for i in left] == ["Cy"]

    welcome = (await api.get("/api/v1/conversations", headers=a.headers)).json()["items"]
    assert [w["therapist_id"] for w in welcome] == [owner.id]
    conn = await asyncpg.connect(database_url)
    try:
        loads = await conn.fetch(
            "SELECT therapist_id, count(*) AS n FROM care_relationships WHERE ended_at IS NULL GROUP BY therapist_id"
        )
    finally:
        await conn.close()
    assert {str(r["therapist_id"]): r["n"] for r in loads} == {owner.id: 1, colleague.id: 1}

    again = await api.post(f"/api/v1/practices/{practice}/match-queue/preview", headers=admin.headers)
    assert again.json()["assigned"] == 0, "existing caseload counts: nobody has room left"
    assert again.json()["placements"][0]["outcome"] == "no_fit"

    report = (await api.get(f"/api/v1/practices/{practice}/time-to-match", headers=admin.headers)).json()
    assert report["matches"] == 2


async def test_queue_access_is_the_practice_admins_only(api, database_url):
    owner = await therapist(api, "Dr. Owner")
    other = await therapist(api, "Dr. Other")
    admin = await signed_up(api, "therapist", display_name="Other Admin")
    await into_practice(database_url, other.practice_id, admin, role="practice_admin")
    await into_practice(database_url, owner.practice_id, await signed_up(api, "therapist"), role="practice_admin")
    admin = await fresh_login(api, admin, role="practice_admin")
    client = await _queued(api, owner.practice_id, "Dee")

    foreign = await api.get(f"/api/v1/practices/{owner.practice_id}/match-queue", headers=admin.headers)
    assert foreign.status_code == 404
    foreign_preview = await api.post(
        f"/api/v1/practices/{owner.practice_id}/match-queue/preview", headers=admin.headers
    )
    assert foreign_preview.status_code == 404
    own = await api.get(f"/api/v1/practices/{other.practice_id}/match-queue", headers=admin.headers)
    assert own.status_code == 200 and own.json()["items"] == []

    for path in ("preview", "assignments"):
        refused = await api.post(f"/api/v1/practices/{owner.practice_id}/match-queue/{path}", headers=client.headers)
        assert refused.status_code == 403, "clients cannot batch"
        therapist_refused = await api.post(
            f"/api/v1/practices/{owner.practice_id}/match-queue/{path}", headers=owner.headers
        )
        assert therapist_refused.status_code == 403, "therapists cannot batch either"
    unknown = await api.post(
        "/api/v1/matches", json={"mode": "queue", "practice_id": str(uuid.uuid4())}, headers=client.headers
    )
    assert unknown.status_code == 404


async def test_only_a_group_practice_with_an_admin_takes_a_queue(api, database_url):
    """Nobody but a group practice's admins assigns a queue: elsewhere the client would wait for good."""
    solo = await therapist(api, "Dr. Solo")
    group = await therapist(api, "Dr. Grouped")
    await into_practice(database_url, group.practice_id, group)  # a group practice, but nobody to assign it yet
    client = await signed_up(api, "client", display_name="Eve")
    await submitted(api, client)

    for practice in (solo.practice_id, group.practice_id):
        refused = await api.post(
            "/api/v1/matches", json={"mode": "queue", "practice_id": practice}, headers=client.headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "practice_without_queue"
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM matches WHERE client_id = $1", uuid.UUID(client.id)) == 0
    finally:
        await conn.close()

    admin = await signed_up(api, "therapist", display_name="Gil Admin")
    await into_practice(database_url, group.practice_id, admin, role="practice_admin")
    await _queued(api, group.practice_id, "Fay")
