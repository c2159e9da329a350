"""Runs the Playwright suite (frontend/e2e) in real Chromium against the real app and SPA."""

from __future__ import annotations

import pytest

from api.main import create_app
from tests.support.playwright import FRONTEND, run_playwright
from tests.support.server import serve

pytestmark = pytest.mark.browser


async def test_playwright_suite(settings):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    app = create_app(settings.model_copy(update={"spa_dir": FRONTEND / "dist"}))
    async with serve(app) as url:
        # The seeded specs (billing, team) skip themselves here: their own tests run them with their seeds.
        await run_playwright(url, timeout=1200, may_skip=True)
