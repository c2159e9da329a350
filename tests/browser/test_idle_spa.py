"""Runs frontend/e2e/idle.spec.ts in real Chromium against the real app and SPA, with idle limits of 30 seconds and
access tokens of 6, so the spec can wait the limit out: a tab left alone is signed out though its polls keep
refreshing the token, and a user who keeps using it is not."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from api.main import create_app
from tests.support.server import serve

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("HEARTH_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.browser


async def test_idle_spec(settings):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    npx = shutil.which("npx")
    assert npx, "Node.js (npx) is required for the browser tests"
    short = {"staff_idle_minutes": 0.5, "client_idle_minutes": 0.5, "access_token_minutes": 0.1}
    app = create_app(settings.model_copy(update={"spa_dir": FRONTEND / "dist", **short}))
    async with serve(app) as url:
        process = await asyncio.create_subprocess_exec(
            npx,
            "playwright",
            "test",
            "e2e/idle.spec.ts",
            *os.environ.get("HEARTH_PLAYWRIGHT_ARGS", "").split(),  # e.g. "-g activity" for one test
            cwd=FRONTEND,
            env={
                **os.environ,
                "HEARTH_BASE_URL": url,
                "HEARTH_CHROMIUM": CHROMIUM,
                "CI": "1",
                "HEARTH_IDLE_TESTS": "1",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=900)
    text = output.decode(errors="replace")
    print(text)
    assert process.returncode == 0, text
    assert " passed" in text and " failed" not in text and "skipped" not in text, text
