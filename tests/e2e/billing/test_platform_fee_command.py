"""`hearth billing set-fee` sets the platform fee of one practice; the therapist's statement shows it."""

from __future__ import annotations

import asyncio
import subprocess
import sys


async def _set_fee(settings, database_url, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
        "HEARTH_DATA_DIR": str(settings.data_dir),
        "HEARTH_LOG_LEVEL": "WARNING",
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
