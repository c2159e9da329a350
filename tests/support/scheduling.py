"""Helpers that set a therapist up for booking over the real API."""

from __future__ import annotations

import httpx

from tests.support.users import LoggedIn

WEEKDAYS_9_TO_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 8)]


async def publish_profile(api: httpx.AsyncClient, therapist: LoggedIn, **overrides) -> dict:
    current = await api.get("/api/v1/therapists/me/profile", headers=therapist.headers)
    assert current.status_code == 200, current.text
    body = {
        "display_name": "Dr. Dana Reyes",
        "bio": "Anxiety and grief.",
        "licenses": ["US-NY"],
        "specialties": ["anxiety"],
        "languages": ["en"],
        "modalities": ["video", "audio", "phone", "chat"],
        "session_lengths": [10, 20, 30, 50, 60],
        "rates": [{"duration_minutes": 50, "amount_minor": 12000, "currency": "USD"}],
        "timezone": "America/New_York",
        "accepting_new_clients": True,
        "caseload_capacity": 25,
        "cancellation_window_hours": 24,
        **overrides,
    }
    response = await api.put(
        "/api/v1/therapists/me/profile",
        json=body,
        headers={**therapist.headers, "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def put_minimal_profile(api: httpx.AsyncClient, therapist: LoggedIn, **overrides) -> httpx.Response:
    """PUT a small profile (for tests of what it refuses): the response, whatever its status."""
    current = await api.get("/api/v1/therapists/me/profile", headers=therapist.headers)
    body = {
        "display_name": "Dr. Dana Reyes",
        "modalities": ["video"],
        "session_lengths": [50],
        "timezone": "America/New_York",
        **overrides,
    }
    headers = {**therapist.headers, "If-Match": current.headers["etag"]}
    return await api.put("/api/v1/therapists/me/profile", json=body, headers=headers)


async def publish_hours(api: httpx.AsyncClient, therapist: LoggedIn, **overrides) -> dict:
    body = {
        "timezone": "America/New_York",
        "weekly": WEEKDAYS_9_TO_17,
        "exceptions": [],
        "buffer_minutes": 0,
        "max_sessions_per_day": None,
        "min_notice_minutes": 0,
        "horizon_days": 60,
        **overrides,
    }
    response = await api.put("/api/v1/therapists/me/office-hours", json=body, headers=therapist.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def bookable_therapist(api: httpx.AsyncClient, therapist: LoggedIn, **hours) -> None:
    await publish_profile(api, therapist)
    await publish_hours(api, therapist, **hours)
