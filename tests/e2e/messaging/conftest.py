"""Messaging tests reuse the clinical fixtures: a client in care with a therapist, their conversation opened
by the first booking."""

from __future__ import annotations

from tests.e2e.clinical.conftest import Care, api, app, care, in_care, smtp  # noqa: F401  (shared fixtures)


async def conversation_of(client, pair: Care) -> dict:
    items = (await client.get("/api/v1/conversations", headers=pair.client.headers)).json()["items"]
    assert len(items) == 1
    return items[0]
