"""One situation, one status and code: the same error code never has two HTTP statuses, each resource names its
own errors, domain field errors point into the body like pydantic's, and a non-JSON body is a 415."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.matching.conftest import answers
from tests.support.scheduling import bookable_therapist
from tests.support.users import signed_up

REGISTER = {
    "email": "someone.new@example.com",
    "password": "a perfectly good passphrase",
    "role": "client",
    "display_name": "Someone New",
    "timezone": "Europe/London",
}


def _problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


async def test_session_not_started_is_409_wherever_it_is_answered(clocked_api):
    therapist = await signed_up(clocked_api, "therapist")
    await bookable_therapist(clocked_api, therapist)
    client = await signed_up(clocked_api, "client")
    slot = {"therapist_id": therapist.id, "start": "2026-12-02T15:00:00Z", "duration_minutes": 50, "modality": "video"}
    booked = await clocked_api.post("/api/v1/appointments", json=slot, headers=client.headers)
    assert booked.status_code == 201, booked.text
    url = f"/api/v1/appointments/{booked.json()['id']}"
    for status in ("completed", "no_show"):
        early = await clocked_api.post(f"{url}/status", json={"status": status}, headers=therapist.headers)
        _problem(early, 409, "session_not_started")
    # Ending the live session before it started: the same code, the same status.
    ended = await clocked_api.post(f"{url}/session/end", headers=therapist.headers)
    _problem(ended, 409, "session_not_started")


async def test_a_bad_waitlist_time_range_is_the_waitlists_own_error(clocked_api):
    therapist = await signed_up(clocked_api, "therapist")
    await bookable_therapist(clocked_api, therapist)
    client = await signed_up(clocked_api, "client")
    joined = await clocked_api.post(
        f"/api/v1/therapists/{therapist.id}/waitlist",
        json={"durations": [50], "time_ranges": [{"start": "12:00", "end": "11:00"}]},
        headers=client.headers,
    )
    body = _problem(joined, 422, "invalid_waitlist_entry")
    assert body["errors"][0]["loc"] == ["body", "time_ranges"]


async def test_domain_field_errors_split_their_path_like_pydantic(clocked_api):
    client = await signed_up(clocked_api, "client")
    intake = answers(payment={"kind": "insurance", "payer": " Padded Insurer "})
    sent = await clocked_api.post("/api/v1/intake", json=intake, headers=client.headers)
    body = _problem(sent, 422, "invalid_insurance")
    assert body["errors"][0]["loc"] == ["body", "payment", "payer"]


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/x-www-form-urlencoded", None])
async def test_a_json_operation_refuses_other_media_types_with_415(clocked_api, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = await clocked_api.post("/api/v1/auth/register", content=b'{"email": "x"}', headers=headers)
    _problem(response, 415, "unsupported_media_type")


async def test_json_media_types_and_form_operations_are_unchanged(clocked_api):
    plain = await clocked_api.post("/api/v1/auth/register", json={**REGISTER, "display_name": ""})
    _problem(plain, 422, "validation_failed")
    charset = await clocked_api.post(
        "/api/v1/auth/register",
        content=b'{"email": "x"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    _problem(charset, 422, "validation_failed")
    # The token endpoint takes a form: JSON there stays a validation error of its fields.
    _problem(
        await clocked_api.post("/api/v1/auth/token", json={"username": "x", "password": "y"}), 422, "validation_failed"
    )
