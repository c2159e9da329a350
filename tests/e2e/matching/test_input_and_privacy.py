"""Bad input answers problem+json with stable codes; intake answers are sealed at rest (a canary in every free
text answer is nowhere in the database), and a client's matches are theirs alone."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.e2e.matching.conftest import answers, submitted, suggestions, therapist
from tests.support.users import signed_up


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"consent_to_match": False}, "consent_required"),
        ({"residence": "Ohio"}, "invalid_residence"),
        ({"residence": "ZZ-99"}, "invalid_residence"),  # the shape of a region, but none (was 201)
        ({"payment": {"kind": "budget", "max_amount_minor": 9000, "currency": "QQQ"}}, "invalid_currency"),
        ({"timezone": "Mars/Olympus"}, "invalid_timezone"),
        ({"days": [3, 1]}, "invalid_days"),
        ({"times": [{"start": "18:00", "end": "09:00"}]}, "invalid_times"),
        ({"language": "English"}, "invalid_language"),
        ({"concerns": ["anxiety", "anxiety"]}, "invalid_concerns"),
        ({"payment": {"kind": "insurance", "payer": " Aetna"}}, "invalid_insurance"),
    ],
)
async def test_business_rules_of_the_intake(api, overrides, code):
    client = await signed_up(api, "client")
    response = await api.post("/api/v1/intake", json=answers(**overrides), headers=client.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        answers(concerns=["astrology"]),
        answers(session_minutes="50"),
        answers(consent_to_match="yes"),
        answers(extra_question=1),
        answers(payment={"kind": "coupon"}),
        {"concerns": ["anxiety"]},
        [],
    ],
)
async def test_malformed_intakes_are_422_never_500(api, body):
    client = await signed_up(api, "client")
    response = await api.post("/api/v1/intake", json=body, headers=client.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"


async def test_request_and_choice_errors(api):
    client = await signed_up(api, "client")
    early = await api.post("/api/v1/matches", json={}, headers=client.headers)
    assert early.status_code == 409 and early.json()["code"] == "intake_required"
    draft = await api.put("/api/v1/intake", json={"step": 1, "answers": {"mood": "low"}}, headers=client.headers)
    assert draft.status_code == 422
    bad_step = await api.put("/api/v1/intake", json={"step": 99, "answers": {}}, headers=client.headers)
    assert bad_step.status_code == 422

    fit = await therapist(api, "Dr. Fit", specialties=["anxiety"])
    unfit = await therapist(api, "Dr. Unfit", licenses=["US-NY"])
    await submitted(api, client)
    queue = await api.post("/api/v1/matches", json={"mode": "queue"}, headers=client.headers)
    assert queue.status_code == 422 and queue.json()["code"] == "practice_required"
    match = await suggestions(api, client)
    not_offered = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": unfit.id}, headers=client.headers
    )
    assert not_offered.status_code == 422 and not_offered.json()["code"] == "not_suggested"
    bad_mode = await api.post("/api/v1/matches", json={"mode": "lottery"}, headers=client.headers)
    assert bad_mode.status_code == 422

    other = await signed_up(api, "client")
    foreign = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": fit.id}, headers=other.headers
    )
    assert foreign.status_code == 404, "another client's match does not exist for them"
    assert (await api.get(f"/api/v1/matches/{match['id']}", headers=other.headers)).status_code == 404
    assert (await api.get(f"/api/v1/matches/{match['id']}", headers=client.headers)).status_code == 200
    assert (await api.post("/api/v1/matches", json={}, headers=fit.headers)).status_code == 403
    assert (await api.get("/api/v1/intake", headers=fit.headers)).status_code == 403

    # a newer request closes the open one
    newer = await suggestions(api, client)
    stale = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": fit.id}, headers=client.headers
    )
    assert stale.status_code == 409 and stale.json()["code"] == "match_not_open"
    assert newer["suggestions"][0]["therapist_id"] == fit.id

    # room gone between suggestion and choice
    conn_full = await api.get("/api/v1/therapists/me/profile", headers=fit.headers)
    body = {k: v for k, v in conn_full.json().items() if k not in ("therapist_id", "version")}
    closed = await api.put(
        "/api/v1/therapists/me/profile",
        json={**body, "accepting_new_clients": False},
        headers={**fit.headers, "If-Match": conn_full.headers["etag"]},
    )
    assert closed.status_code == 200, closed.text
    gone = await api.post(
        f"/api/v1/matches/{newer['id']}/choice", json={"therapist_id": fit.id}, headers=client.headers
    )
    assert gone.status_code == 409 and gone.json()["code"] == "therapist_unavailable"
    assert "not accepting new clients" in gone.json()["detail"]


async def test_profile_matching_traits_round_trip_with_etag(api):
    user = await therapist(api, "Dr. Traits", gender="woman", faith_based=True, insurance_payers=["Aetna"])
    mine = await api.get("/api/v1/therapists/me/profile", headers=user.headers)
    assert mine.json()["gender"] == "woman" and mine.json()["faith_based"] is True
    assert mine.json()["insurance_payers"] == ["Aetna"] and mine.json()["lgbtq_affirming"] is False
    body = {k: v for k, v in mine.json().items() if k not in ("therapist_id", "version")}
    bad = await api.put(
        "/api/v1/therapists/me/profile",
        json={**body, "insurance_payers": ["Aetna", "aetna"]},
        headers={**user.headers, "If-Match": mine.headers["etag"]},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_profile"
    changed = await api.put(
        "/api/v1/therapists/me/profile",
        json={**body, "lgbtq_affirming": True},
        headers={**user.headers, "If-Match": mine.headers["etag"]},
    )
    assert changed.status_code == 200 and changed.json()["lgbtq_affirming"] is True
    assert changed.headers["etag"] != mine.headers["etag"]
    stale = await api.put(
        "/api/v1/therapists/me/profile",
        json={**body, "gender": "man"},
        headers={**user.headers, "If-Match": mine.headers["etag"]},
    )
    assert stale.status_code == 412

    client = await signed_up(api, "client")
    await submitted(
        api, client, therapist_gender="woman", faith_based=True, payment={"kind": "insurance", "payer": "aetna"}
    )
    reasons = [r["text"] for r in (await suggestions(api, client))["suggestions"][0]["reasons"]]
    assert "is a woman, as you asked" in reasons and "offers a faith-based approach" in reasons
    assert "in network with aetna" in reasons


async def test_intake_answers_are_sealed_at_rest(api, database_url):
    marker = f"canary{uuid.uuid4().hex[:12]}"
    client = await signed_up(api, "client")
    draft = await api.put(
        "/api/v1/intake",
        json={"step": 4, "answers": {"payment": {"kind": "insurance", "payer": f"Draft {marker}"}}},
        headers=client.headers,
    )
    assert draft.status_code == 200
    await submitted(api, client, payment={"kind": "insurance", "payer": f"Insurer {marker}"}, concerns=["trauma"])

    conn = await asyncpg.connect(database_url)
    try:
        tables = [
            f'"{r["schemaname"]}"."{r["relname"]}"'
            for r in await conn.fetch("SELECT schemaname, relname FROM pg_stat_user_tables")
        ]
        hits = []
        for table in tables:
            rows = await conn.fetch(f"SELECT t::text AS row FROM {table} t")  # table names come from the catalogue
            hits += [table for r in rows if marker in r["row"] or "trauma" in r["row"]]
        sealed = await conn.fetch("SELECT body FROM intakes WHERE client_id = $1", uuid.UUID(client.id))
    finally:
        await conn.close()
    assert hits == [], f"intake answers in the clear in {hits}"
    assert sealed and all(marker.encode() not in bytes(r["body"]) for r in sealed)
    back = (await api.get("/api/v1/intake", headers=client.headers)).json()
    assert back["draft"] is None and back["submitted_at"] is not None


@pytest.mark.parametrize(
    ("field", "secret"), [("residence", "canary"), ("language", "canary"), ("timezone", "canary/x")]
)
async def test_a_refused_answer_is_not_quoted_back(api, field, secret):
    client = await signed_up(api, "client")
    response = await api.post("/api/v1/intake", json=answers(**{field: secret}), headers=client.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"].startswith("invalid_")
    assert "canary" not in response.text


async def test_a_choice_refused_by_a_rule_does_not_quote_the_intake(api):
    fit = await therapist(api, "Dr. Price Rise")
    client = await signed_up(api, "client")
    await submitted(api, client, payment={"kind": "budget", "max_amount_minor": 12345, "currency": "USD"})
    match = await suggestions(api, client)
    assert match["suggestions"][0]["therapist_id"] == fit.id

    # The price goes over the client's budget between suggestion and choice.
    current = await api.get("/api/v1/therapists/me/profile", headers=fit.headers)
    body = {k: v for k, v in current.json().items() if k not in ("therapist_id", "version")}
    raised = await api.put(
        "/api/v1/therapists/me/profile",
        json={**body, "rates": [{"duration_minutes": 50, "amount_minor": 20000, "currency": "USD"}]},
        headers={**fit.headers, "If-Match": current.headers["etag"]},
    )
    assert raised.status_code == 200, raised.text
    refused = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": fit.id}, headers=client.headers
    )
    assert refused.status_code == 409 and refused.json()["code"] == "therapist_unavailable"
    detail = refused.json()["detail"]
    assert "over your budget" in detail
    assert "123" not in detail and "$" not in detail, "intake answers never go into an error body"
