"""`hearth billing set-fee` sets the platform fee of one practice; the therapist's statement shows it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import asyncpg
import pytest

from tests.support.users import signed_up


async def _set_fee(settings, database_url, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        "DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
        "HEARTH_DATA_DIR": str(settings.data_dir),
        "HEARTH_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.cli", "billing", "set-fee", *args],
        env=env,
        capture_output=True,
        text=True,
    )


async def _plan(api, therapist) -> dict:
    response = await api.get(
        "/api/v1/therapists/me/statements", params={"from": "2026-11", "to": "2026-11"}, headers=therapist.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_operator_sets_a_practices_fee(api, care, settings, database_url):
    assert (await _plan(api, care.therapist))["platform_fee_plan"]["percent_bp"] == 300  # the deployment default
    result = await _set_fee(settings, database_url, care.therapist.practice_id, "--monthly-minor", "4900")
    assert result.returncode == 0, result.stderr
    body = await _plan(api, care.therapist)
    assert body["platform_fee_plan"] == {
        "mode": "monthly_subscription",
        "percent_bp": 0,
        "monthly": {"amount_minor": 4900, "currency": "USD"},
    }
    assert body["months"][0]["platform_fee"]["amount_minor"] == 4900

    both = await _set_fee(
        settings, database_url, care.therapist.practice_id, "--monthly-minor", "1", "--percent-bp", "1"
    )
    assert both.returncode == 2
    unknown = await _set_fee(settings, database_url, "00000000-0000-0000-0000-000000000000", "--percent-bp", "100")
    assert unknown.returncode == 1 and "No such practice" in unknown.stderr
    too_much = await _set_fee(settings, database_url, care.therapist.practice_id, "--percent-bp", "10001")
    assert too_much.returncode == 1
    made_up = ("--monthly-minor", "100", "--currency", "QQQ")
    not_iso = await _set_fee(settings, database_url, care.therapist.practice_id, *made_up)
    assert not_iso.returncode == 1 and "not an ISO 4217 code" in not_iso.stderr


class TestAEuroDeployment:
    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"billing_currency": "EUR"})

    async def test_a_subscription_is_in_the_deployments_currency_unless_given(self, api, settings, database_url):
        # --currency defaulted to USD, and a EUR practice's statement then refused the subscription (currency_mismatch).
        therapist = await signed_up(api, "therapist")  # no rates yet: the practice bills in HEARTH_BILLING_CURRENCY
        practice = therapist.practice_id
        eur = await _set_fee(settings, database_url, practice, "--monthly-minor", "2500", HEARTH_BILLING_CURRENCY="EUR")
        assert eur.returncode == 0, eur.stderr
        body = await _plan(api, therapist)
        assert body["platform_fee_plan"]["monthly"] == {"amount_minor": 2500, "currency": "EUR"}
        assert body["months"][0]["platform_fee"] == {"amount_minor": 2500, "currency": "EUR"}

        gbp = ("--monthly-minor", "2500", "--currency", "GBP")
        given = await _set_fee(settings, database_url, practice, *gbp, HEARTH_BILLING_CURRENCY="EUR")
        assert given.returncode == 0, given.stderr
        conn = await asyncpg.connect(database_url)
        try:
            stored = await conn.fetchval(
                "SELECT currency FROM platform_fee_settings WHERE practice_id = $1", uuid.UUID(practice)
            )
        finally:
            await conn.close()
        assert stored == "GBP"
