from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from infra.payments.stripe import StripeConfig, StripeGateway
from tests.integration.payments.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.support.clock import FakeClock
from tests.support.server import serve

NOW = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


@pytest.fixture
def stripe_clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def stripe(stripe_clock: FakeClock) -> AsyncIterator[tuple[FakeStripe, str]]:
    fake = FakeStripe(clock=stripe_clock)
    async with serve(fake.app()) as url:
        yield fake, url


def config(url: str, **overrides: object) -> StripeConfig:
    values: dict[str, object] = {
        "secret_key": SECRET_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "base_url": url,
        "timeout_seconds": 5,
        "retry_backoff_seconds": 0,
    }
    values.update(overrides)
    return StripeConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def make_gateway(
    stripe: tuple[FakeStripe, str], stripe_clock: FakeClock
) -> AsyncIterator[Callable[..., StripeGateway]]:
    made: list[StripeGateway] = []

    def build(**overrides: object) -> StripeGateway:
        gateway = StripeGateway(config(stripe[1], **overrides), clock=stripe_clock)
        made.append(gateway)
        return gateway

    yield build
    for gateway in made:
        await gateway.aclose()
