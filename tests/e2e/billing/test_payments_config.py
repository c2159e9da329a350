"""What the SPA reads to load the payment provider's card form, and the start-up check that a Stripe setup has the
publishable key that form needs."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from api.bootstrap import build_container
from api.main import create_app
from tests.integration.payments.fake_stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET
from tests.support.server import serve


async def test_with_stripe_the_config_names_it_and_its_publishable_key_to_anyone(api):
    response = await api.get("/api/v1/payments/config")  # no token: the SPA may ask before anyone logs in
    assert response.status_code == 200, response.text
    assert response.json() == {"provider": "stripe", "publishable_key": PUBLISHABLE_KEY}
    assert SECRET_KEY not in response.text and WEBHOOK_SECRET not in response.text


async def test_without_a_provider_the_config_says_none(settings):
    assert settings.payments_backend == "none"
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        response = await api.get("/api/v1/payments/config")
    assert response.status_code == 200, response.text
    assert response.json() == {"provider": "none", "publishable_key": None}


@pytest.mark.parametrize(
    "publishable",
    [
        None,
        "",
        SECRET_KEY,  # a secret key in its place would be served to every browser
        "rk_test_" + "restricted0123456789",
    ],
)
async def test_stripe_without_a_publishable_key_does_not_start(settings, publishable):
    configured = settings.model_copy(
        update={
            "payments_backend": "stripe",
            "stripe_secret_key": SecretStr(SECRET_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_publishable_key": publishable,
        }
    )
    with pytest.raises(RuntimeError, match=r"^HEARTH_STRIPE_PUBLISHABLE_KEY \(pk_\.\.\.\) is needed for Stripe"):
        await build_container(configured)
