"""A live app over real HTTP and PostgreSQL whose clock stands at 2026-11-27 15:00 UTC (sessions booked for
December are in the future)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from api.main import create_app
from tests.support.server import serve


@pytest.fixture
async def clocked_api(settings, clock) -> AsyncIterator[httpx.AsyncClient]:
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    async with serve(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client
