"""Live-session tests: a therapist and a client in care (a video session booked for 2026-12-01 15:00 UTC), the
server's fake clock, and the session ports plugged with fakes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.e2e.clinical.conftest import Care, api, app, care, in_care, smtp  # noqa: F401  (shared fixtures)
from tests.support.sessions import FakeMediaRelay, FakePhoneCalls, RecordingOutcomes
from tests.support.users import relogin

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@dataclass
class Ports:
    relay: FakeMediaRelay
    phone: FakePhoneCalls
    outcomes: RecordingOutcomes


@pytest.fixture
def ports(app) -> Ports:  # noqa: F811  (the shared fixture)
    container = app[0].state.container
    plugged = Ports(FakeMediaRelay(), FakePhoneCalls(), RecordingOutcomes())
    container.media_relay = plugged.relay
    container.phone_calls = plugged.phone
    container.session_outcomes = plugged.outcomes
    return plugged


async def at(http, clock, moment: datetime, *users) -> None:
    """Move the server's clock (and give the users fresh tokens, which the move may have expired)."""
    clock.set(moment)
    await relogin(http, *users)
