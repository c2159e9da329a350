"""PHQ-9 and GAD-7 over HTTP: assignment, complete answers only, scoring, item-9 alerts, trends, access."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from tests.e2e.clinical.conftest import in_care, run_jobs
from tests.support.users import signed_up


def phq9(*values: int) -> dict:
    return {"answers": {f"q{i + 1}": v for i, v in enumerate(values)}}


async def _assign(api, care, instrument="phq9", frequency="once", **extra) -> dict:
    response = await api.post(
        f"/api/v1/clients/{care.client.id}/measures",
        json={"instrument": instrument, "frequency": frequency, **extra},
        headers=care.therapist.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_instruments_are_published(api, care):
    items = (await api.get("/api/v1/instruments", headers=care.client.headers)).json()["items"]
    by_code = {i["code"]: i for i in items}
    assert len(by_code["phq9"]["items"]) == 9 and by_code["phq9"]["max_total"] == 27
    assert len(by_code["gad7"]["items"]) == 7 and by_code["gad7"]["max_total"] == 21
    assert [o["value"] for o in by_code["phq9"]["options"]] == [0, 1, 2, 3]


async def test_client_answers_and_gets_a_scored_band(api, care, smtp):
    assignment = await _assign(api, care)
    listed = (await api.get(f"/api/v1/clients/{care.client.id}/measures", headers=care.client.headers)).json()["items"]
    assert [(a["id"], a["due_now"]) for a in listed] == [(assignment["id"], True)]
    response = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(1, 1, 2, 1, 1, 1, 2, 1, 0),
        headers=care.client.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["total"], body["severity"], body["flags"], body["crisis_resources"]) == (10, "moderate", [], [])
    assert smtp.received == [], "no alert without a risk answer"
    after = (await api.get(f"/api/v1/clients/{care.client.id}/measures", headers=care.client.headers)).json()["items"]
    assert after[0]["due_now"] is False, "a one-off questionnaire is done once answered"
    again = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(1, 1, 2, 1, 1, 1, 2, 1, 0),
        headers=care.client.headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "already_completed"


async def test_a_new_assignment_answers_what_is_due_as_the_list_does(api, care, clock):
    once = await _assign(api, care)
    later = (clock.now() + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    every = await _assign(api, care, "gad7", "every_n_days", interval_days=14, starts_at=later)
    listed = (await api.get(f"/api/v1/clients/{care.client.id}/measures", headers=care.therapist.headers)).json()
    by_id = {a["id"]: a for a in listed["items"]}
    assert once == by_id[once["id"]] and every == by_id[every["id"]]
    assert (once["due_at"], once["due_now"]) == (once["starts_at"], True)
    assert (every["due_at"], every["due_now"]) == (later, False)


@pytest.mark.parametrize(
    "answers,code",
    [
        ({"q1": 1, "q2": 1}, "incomplete_response"),
        ({f"q{i}": 1 for i in range(1, 11)}, "invalid_answer"),
    ],
)
async def test_incomplete_or_extra_answers_are_refused(api, care, answers, code):
    assignment = await _assign(api, care)
    response = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json={"answers": answers},
        headers=care.client.headers,
    )
    assert response.status_code == 422 and response.json()["code"] == code


async def test_out_of_range_answers_fail_validation(api, care):
    assignment = await _assign(api, care)
    response = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(1, 1, 1, 1, 1, 1, 1, 1, 4),
        headers=care.client.headers,
    )
    assert response.status_code == 422


async def test_item_nine_alerts_the_therapist_at_once(api, app, clock, care, smtp):
    assignment = await _assign(api, care)
    response = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1),
        headers=care.client.headers,
    )
    body = response.json()
    assert body["flags"] == ["suicidal_ideation"]
    assert any("988" in (r["phone"] or "") + (r["text"] or "") for r in body["crisis_resources"])
    alerts = (await api.get("/api/v1/safety-alerts", headers=care.therapist.headers)).json()["items"]
    assert [(a["client_id"], a["response_id"]) for a in alerts] == [(care.client.id, body["id"])]
    assert await run_jobs(app, clock) == 1, "the alert email is a job, due at once"
    [mail] = smtp.received
    assert mail.rcpt_tos == [care.therapist.email]
    text = mail.message.get_body(("plain",)).get_content()
    assert "needs your attention" in text and "Sam" not in text and "PHQ" not in text and "suicid" not in text.lower()
    ack = await api.post(f"/api/v1/safety-alerts/{alerts[0]['id']}/acknowledge", headers=care.therapist.headers)
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    assert (await api.get("/api/v1/safety-alerts", headers=care.therapist.headers)).json()["items"] == []


async def test_a_refused_alert_email_still_shows_the_crisis_resources_and_is_sent_on_retry(
    api, app, clock, care, smtp, database_url
):
    smtp.collector.rcpt_reply, smtp.collector.refuse_times = "451 4.7.1 Greylisted, come back later", 1
    assignment = await _assign(api, care)
    response = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2),
        headers=care.client.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["flags"] == ["suicidal_ideation"] and body["crisis_resources"]
    alerts = (await api.get("/api/v1/safety-alerts", headers=care.therapist.headers)).json()["items"]
    assert [a["response_id"] for a in alerts] == [body["id"]]
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT payload FROM jobs.pgqueuer WHERE entrypoint = 'measures.alert_email'")
        payloads = [bytes(row["payload"]) for row in rows]
    finally:
        await conn.close()
    assert payloads == [f'{{"alert_id":"{alerts[0]["id"]}"}}'.encode()], "ids only, never the answers"
    assert (smtp.received, smtp.collector.refused) == ([], 0), "nothing is sent inside the request"

    assert await run_jobs(app, clock) == 2, "refused once, then retried"
    assert smtp.collector.refused == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == [care.therapist.email]
    assert await run_jobs(app, clock) == 0, "sent once"


async def test_an_alert_acknowledged_before_its_email_went_out_is_not_emailed(api, app, clock, care, smtp):
    assignment = await _assign(api, care)
    await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(0, 0, 0, 0, 0, 0, 0, 0, 3),
        headers=care.client.headers,
    )
    [alert] = (await api.get("/api/v1/safety-alerts", headers=care.therapist.headers)).json()["items"]
    ack = await api.post(f"/api/v1/safety-alerts/{alert['id']}/acknowledge", headers=care.therapist.headers)
    assert ack.status_code == 200
    assert await run_jobs(app, clock) == 1
    assert smtp.received == [], "the email only asks the therapist to open an alert they already opened"


async def test_trend_over_time(api, care, clock):

    from tests.support.users import relogin

    assignment = await _assign(api, care, frequency="every_n_days", interval_days=7)
    for total_items in ([3] * 8 + [0], [2] * 8 + [0], [1] * 8 + [0]):
        response = await api.post(
            f"/api/v1/measure-assignments/{assignment['id']}/responses",
            json=phq9(*total_items),
            headers=care.client.headers,
        )
        assert response.status_code == 201
        clock.advance(days=7)
        await relogin(api, care.client, care.therapist)
    trend = (
        await api.get(f"/api/v1/clients/{care.client.id}/measures/phq9/trend", headers=care.therapist.headers)
    ).json()
    assert [p["total"] for p in trend["points"]] == [24, 16, 8]
    assert trend["change"] == -16 and trend["latest_below_cutoff"] is True
    own = (await api.get(f"/api/v1/clients/{care.client.id}/measures/phq9/trend", headers=care.client.headers)).json()
    assert own["points"] == trend["points"]


async def test_strangers_get_404(api, care):
    assignment = await _assign(api, care)
    other_client = await signed_up(api, "client")
    other = await in_care(api)
    stolen = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(0, 0, 0, 0, 0, 0, 0, 0, 0),
        headers=other_client.headers,
    )
    assert stolen.status_code == 404
    for headers in (other.therapist.headers, other_client.headers):
        assert (
            await api.get(f"/api/v1/clients/{care.client.id}/measure-responses", headers=headers)
        ).status_code == 404
        assert (await api.get(f"/api/v1/clients/{care.client.id}/measures", headers=headers)).status_code == 404
    not_mine = await api.post(
        f"/api/v1/clients/{other_client.id}/measures",
        json={"instrument": "gad7", "frequency": "once"},
        headers=care.therapist.headers,
    )
    assert not_mine.status_code == 404, "a therapist assigns only to their own clients"


async def test_a_practice_can_set_its_own_crisis_resources(api, care):
    resources = {"items": [{"name": "Samaritans", "phone": "116 123", "url": "https://www.samaritans.org"}]}
    put = await api.put("/api/v1/practices/me/crisis-resources", json=resources, headers=care.therapist.headers)
    assert put.status_code == 200 and put.json()["items"][0]["name"] == "Samaritans"
    refused = await api.put("/api/v1/practices/me/crisis-resources", json=resources, headers=care.client.headers)
    assert refused.status_code == 403
    bad = await api.put(
        "/api/v1/practices/me/crisis-resources",
        json={"items": [{"name": "x", "url": "http://insecure"}]},
        headers=care.therapist.headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_crisis_resource"
    assignment = await _assign(api, care)
    answered = await api.post(
        f"/api/v1/measure-assignments/{assignment['id']}/responses",
        json=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2),
        headers=care.client.headers,
    )
    assert [r["name"] for r in answered.json()["crisis_resources"]] == ["Samaritans"]
