"""A new client's path: draft and resume the intake, submit, get three suggestions with reasons, choose one, and
find the therapist's welcome message. Hard rules keep unfit therapists out."""

from __future__ import annotations

import asyncio
import re

from tests.e2e.matching.conftest import answers, choose, submitted, suggestions, therapist
from tests.support.users import relogin, signed_up


async def test_intake_draft_resumes_then_submits(api):
    client = await signed_up(api, "client", display_name="Robin Client")
    empty = await api.get("/api/v1/intake", headers=client.headers)
    assert empty.status_code == 200
    assert empty.json()["draft"] is None and empty.json()["questionnaire"]["version"] == 1
    assert {"value": "ocd", "label": "OCD"} in empty.json()["questionnaire"]["concerns"]

    first = await api.put(
        "/api/v1/intake",
        json={"step": 2, "answers": {"concerns": ["grief"], "residence": "US-OH"}},
        headers=client.headers,
    )
    assert first.status_code == 200, first.text
    second = await api.put(
        "/api/v1/intake",
        json={"step": 3, "answers": {"concerns": ["grief", "stress"], "residence": "US-OH", "language": "en"}},
        headers=client.headers,
    )
    assert second.json()["revision"] == first.json()["revision"] + 1
    resumed = (await api.get("/api/v1/intake", headers=client.headers)).json()
    assert resumed["step"] == 3
    assert resumed["draft"]["concerns"] == ["grief", "stress"] and resumed["draft"]["language"] == "en"
    assert resumed["submitted_at"] is None

    sent = await api.post("/api/v1/intake", json=answers(), headers=client.headers)
    assert sent.status_code == 201, sent.text
    after = (await api.get("/api/v1/intake", headers=client.headers)).json()
    assert after["draft"] is None, "submitting replaces the draft"
    assert after["submitted_at"] == sent.json()["submitted_at"]


async def test_three_suggestions_with_reasons_then_choice_starts_care_and_welcome(api, clock):
    best = await therapist(api, "Dr. Ada Best", specialties=["anxiety", "grief"])
    good = await therapist(api, "Dr. Ben Good", specialties=["anxiety"])
    fair = await therapist(api, "Dr. Cy Fair", specialties=["grief"])
    plain = await therapist(api, "Dr. Di Plain", specialties=["sleep"])
    client = await signed_up(api, "client", display_name="Sam Client")
    await submitted(api, client)

    match = await suggestions(api, client)
    found = match["suggestions"]
    assert found[0]["therapist_id"] == best.id
    assert {s["therapist_id"] for s in found[1:]} == {good.id, fair.id}
    assert len(found) == 3 and plain.id not in {s["therapist_id"] for s in found}
    assert found[0]["score"] >= found[1]["score"] >= found[2]["score"]
    texts = found[0]["reasons"]
    assert any(r["text"] == "licensed in Ohio" for r in texts)
    assert any(r["text"] == "specializes in anxiety and grief" for r in texts)
    assert any("open times that fit" in r["text"] for r in texts)
    assert found[0]["open_times"] > 0 and len(found[0]["next_open"]) == 3
    first_open = found[0]["next_open"][0]["start"]
    assert first_open >= "2026-11-30T14:00:00Z"

    clock.advance(hours=3)
    await relogin(api, client, best, good)
    chosen = await choose(api, client, match, best.id)
    assert chosen["status"] == "chosen" and chosen["therapist_id"] == best.id
    assert chosen["practice_id"] == best.practice_id and chosen["previous_therapist_id"] is None

    me = (await api.get("/api/v1/me", headers=client.headers)).json()
    assert me["practice_id"] == best.practice_id, "the client joined the therapist's practice"
    conversations = (await api.get("/api/v1/conversations", headers=client.headers)).json()["items"]
    assert len(conversations) == 1
    messages = (
        await api.get(f"/api/v1/conversations/{conversations[0]['id']}/messages", headers=client.headers)
    ).json()["items"]
    assert messages[0]["kind"] == "welcome" and messages[0]["sender_id"] == best.id
    assert "Sam" in messages[0]["body"]

    again = await api.post(
        f"/api/v1/matches/{match['id']}/choice", json={"therapist_id": good.id}, headers=client.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "match_not_open"

    report = await api.get(f"/api/v1/practices/{best.practice_id}/time-to-match", headers=best.headers)
    assert report.status_code == 200, report.text
    assert report.json()["matches"] == 1 and report.json()["median_hours"] == 3.0
    other = await api.get(f"/api/v1/practices/{best.practice_id}/time-to-match", headers=good.headers)
    assert other.status_code == 404


async def test_hard_rules_keep_unfit_therapists_out(api):
    fit = await therapist(api, "Dr. Fit", specialties=["sleep"])
    unlicensed = await therapist(api, "Dr. Elsewhere", specialties=["anxiety", "grief"], licenses=["US-NY"])
    full = await therapist(api, "Dr. Full", specialties=["anxiety", "grief"], caseload_capacity=0)
    closed = await therapist(api, "Dr. Closed", specialties=["anxiety", "grief"], accepting_new_clients=False)
    spanish = await therapist(api, "Dr. Habla", specialties=["anxiety", "grief"], languages=["es"])
    chat_only = await therapist(api, "Dr. Chat", specialties=["anxiety", "grief"], modalities=["chat"])
    pricey = await therapist(
        api,
        "Dr. Pricey",
        specialties=["anxiety", "grief"],
        rates=[{"duration_minutes": 50, "amount_minor": 30000, "currency": "USD"}],
    )
    client = await signed_up(api, "client")
    await submitted(api, client, payment={"kind": "budget", "max_amount_minor": 15000, "currency": "USD"})
    found = (await suggestions(api, client))["suggestions"]
    ids = {s["therapist_id"] for s in found}
    assert ids == {fit.id}, "only the therapist passing every hard rule is suggested, even with a weaker score"
    for unfit in (unlicensed, full, closed, spanish, chat_only, pricey):
        assert unfit.id not in ids
    assert any(r["kind"] == "price" and "within your budget" in r["text"] for r in found[0]["reasons"])


async def test_automatic_assignment_picks_the_best(api):
    await therapist(api, "Dr. Second", specialties=["anxiety"])
    best = await therapist(api, "Dr. First", specialties=["anxiety", "grief"])
    client = await signed_up(api, "client")
    await submitted(api, client)
    response = await api.post("/api/v1/matches", json={"mode": "automatic"}, headers=client.headers)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "chosen" and response.json()["therapist_id"] == best.id
    conversations = (await api.get("/api/v1/conversations", headers=client.headers)).json()["items"]
    assert [c["therapist_id"] for c in conversations] == [best.id]

    nobody = await signed_up(api, "client")
    await submitted(api, nobody, residence="GB")
    none = await api.post("/api/v1/matches", json={"mode": "automatic"}, headers=nobody.headers)
    assert none.status_code == 409 and none.json()["code"] == "no_match"


async def test_two_clients_racing_for_the_last_place_cannot_both_get_it(api):
    only = await therapist(api, "Dr. Last Place", specialties=["anxiety"], caseload_capacity=1)
    first = await signed_up(api, "client")
    second = await signed_up(api, "client")
    matches = []
    for client in (first, second):
        await submitted(api, client)
        matches.append(await suggestions(api, client))
    assert all(m["suggestions"][0]["therapist_id"] == only.id for m in matches)
    answers_ = await asyncio.gather(
        *(
            api.post(f"/api/v1/matches/{m['id']}/choice", json={"therapist_id": only.id}, headers=c.headers)
            for m, c in zip(matches, (first, second), strict=True)
        )
    )
    assert sorted(r.status_code for r in answers_) == [200, 409]
    refused = next(r for r in answers_ if r.status_code == 409)
    detail = refused.json()["detail"]
    assert refused.json()["code"] == "therapist_unavailable" and "no places left" in detail
    assert not re.search(r"\d", detail), "a client is not told the therapist's caseload or capacity"
