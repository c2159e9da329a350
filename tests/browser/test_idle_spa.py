"""Runs frontend/e2e/idle.spec.ts in real Chromium against the real app and SPA, with idle limits of 30 seconds and
access tokens of 6, so the spec can wait the limit out: a tab left alone is signed out though its polls keep
refreshing the token, and a user who keeps using it is not."""

from __future__ import annotations

import pytest

from api.main import create_app
from tests.support.playwright import FRONTEND, run_playwright
from tests.support.server import serve

pytestmark = pytest.mark.browser

IDLE_TESTS = 4  # the tests in e2e/idle.spec.ts


async def test_idle_spec(settings):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    short = {"staff_idle_minutes": 0.5, "client_idle_minutes": 0.5, "access_token_minutes": 0.1}
    app = create_app(settings.model_copy(update={"spa_dir": FRONTEND / "dist", **short}))
    async with serve(app) as url:
        # Its tests mostly wait: one worker each, so the spec lasts as long as its slowest test, not their sum.
        await run_playwright(url, ["e2e/idle.spec.ts", f"--workers={IDLE_TESTS}"], {"HEARTH_IDLE_TESTS": "1"})
