"""Scheduling tests run the real app with a controllable clock (2026-11-27 15:00 UTC unless moved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.main import create_app
from tests.support.scheduling import bookable_therapist
from tests.support.server import serve
from tests.support.users import signed_up


def ny(days: int, hour: int, minute: int = 0) -> str:
    """New York wall time on 2026-12-01 + days, as UTC (EST, no DST change in December)."""
    moment = datetime(2026, 12, 1, hour + 5, minute, tzinfo=UTC) + timedelta(days=days)
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def app_url(settings, clock):
    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    tuned = settings.model_copy(update={"db_pool_size": 20, "db_max_overflow": 20})
    async with serve(create_app(tuned, clock=clock)) as url:
        yield url


@pytest.fixture
async def api(app_url):
    async with httpx.AsyncClient(base_url=app_url, timeout=60) as client:
        yield client


@pytest.fixture
async def therapist(api):
    user = await signed_up(api, "therapist")
    await bookable_therapist(api, user)
    return user


def booking(therapist, start: str, minutes: int = 50, modality: str = "video") -> dict:
    return {"therapist_id": therapist.id, "start": start, "duration_minutes": minutes, "modality": modality}
