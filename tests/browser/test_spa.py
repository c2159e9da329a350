"""Runs the Playwright suite (frontend/e2e) in real Chromium against the real app and SPA."""

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


async def test_playwright_suite(settings):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    npx = shutil.which("npx")
    assert npx, "Node.js (npx) is required for the browser tests"
    app = create_app(settings.model_copy(update={"spa_dir": FRONTEND / "dist"}))
    async with serve(app) as url:
        # A subprocess, awaited, so the server keeps serving on this event loop meanwhile.
        process = await asyncio.create_subprocess_exec(
            npx,
            "playwright",
            "test",
            *os.environ.get("HEARTH_PLAYWRIGHT_ARGS", "").split(),  # e.g. "--repeat-each=10 -g PHQ-9" to hunt a flake
            cwd=FRONTEND,
            env={**os.environ, "HEARTH_BASE_URL": url, "HEARTH_CHROMIUM": CHROMIUM, "CI": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=1200)
    text = output.decode(errors="replace")
    print(text)
    assert process.returncode == 0, text
    assert " passed" in text and " failed" not in text
