"""A therapist's licences are ISO 3166 codes: a country, or a subdivision of it (review finding 10)."""

from __future__ import annotations

from tests.support.scheduling import put_minimal_profile
from tests.support.users import signed_up


async def test_a_licence_is_a_real_country_or_one_of_its_regions(api):
    therapist = await signed_up(api, "therapist")
    for licence in ("US-ZZ", "ZZ", "GB-NY"):
        response = await put_minimal_profile(api, therapist, licenses=[licence])
        assert response.status_code == 422, (licence, response.text)
        assert response.json()["code"] == "invalid_license"
    accepted = await put_minimal_profile(api, therapist, licenses=["US-NY", "GB", "CA-ON"])
    assert accepted.status_code == 200, accepted.text
