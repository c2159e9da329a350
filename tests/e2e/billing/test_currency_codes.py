"""A currency is an ISO 4217 code Hearth can bill in, wherever one is accepted (review finding 9)."""

from __future__ import annotations

import pytest

from tests.e2e.billing.conftest import RATES
from tests.support.scheduling import put_minimal_profile
from tests.support.users import signed_up


async def _put_settings(api, therapist, **changes):
    current = await api.get("/api/v1/therapists/me/billing-settings", headers=therapist.headers)
    return await api.put(
        "/api/v1/therapists/me/billing-settings",
        json={**RATES, **changes},
        headers={**therapist.headers, "If-Match": current.headers["etag"]},
    )


@pytest.mark.parametrize("currency", ["QQQ", "XAU", "KWD"])
async def test_billing_settings_refuse_a_currency_that_is_not_billable(api, currency):
    therapist = await signed_up(api, "therapist")
    response = await _put_settings(api, therapist, currency=currency)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_currency"
    assert body["errors"][0]["loc"] == ["body", "currency"]


async def test_billing_settings_in_yen_keep_whole_yen(api):
    therapist = await signed_up(api, "therapist")
    response = await _put_settings(api, therapist, currency="JPY")
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "JPY"


async def test_profile_rates_refuse_a_made_up_currency(api):
    therapist = await signed_up(api, "therapist")
    rates = [{"duration_minutes": 50, "amount_minor": 12000, "currency": "QQQ"}]
    response = await put_minimal_profile(api, therapist, rates=rates)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_currency"
