"""Size limits the domain enforces are declared in the schema, and a rejected value never comes back whole."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.scheduling import put_minimal_profile
from tests.support.users import signed_up

SPEC = json.loads((Path(__file__).parents[2] / "openapi.json").read_text())


def _schema(name: str) -> dict:
    return SPEC["components"]["schemas"][name]["properties"]


async def test_a_huge_licence_gets_a_small_422(api):
    therapist = await signed_up(api, "therapist")
    response = await put_minimal_profile(api, therapist, licenses=["x" * 900_000])
    assert response.status_code == 422, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.content) < 2_000
    assert "x" * 50 not in response.text
    assert response.json()["errors"][0]["loc"][:2] == ["body", "licenses"]


def test_item_limits_are_in_the_openapi_document():
    assert _schema("ProfileIn")["licenses"]["items"]["maxLength"] == 6
    assert _schema("PlanDocumentIO")["problems"]["items"]["maxLength"] == 2000
    fields = _schema("NoteDocumentIO")["fields"]
    assert fields["additionalProperties"]["maxLength"] == 50_000
    assert fields["propertyNames"]["maxLength"] == 20
