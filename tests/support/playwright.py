"""Runs one Playwright spec (or the whole suite) against a served Hearth, as every browser test does: a subprocess,
awaited, so the server keeps serving on this event loop meanwhile."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("HEARTH_CHROMIUM", "/usr/bin/chromium")


def npx() -> str:
    found = shutil.which("npx")
    assert found, "Node.js (npx) is required for the browser tests"
    assert Path(CHROMIUM).is_file(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return found


async def run_playwright(
    base_url: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 900,
    may_skip: bool = False,
) -> str:
    """Runs `playwright test *args` against `base_url` and asserts every test ran and passed (a skip fails unless
    `may_skip`: seeded specs skip themselves when run without their seed). Returns the output. Extra arguments
    from HEARTH_PLAYWRIGHT_ARGS (e.g. "--repeat-each=5 -g PHQ-9", to hunt a flake) come last."""
    process = await asyncio.create_subprocess_exec(
        npx(),
        "playwright",
        "test",
        *args,
        *os.environ.get("HEARTH_PLAYWRIGHT_ARGS", "").split(),
        cwd=FRONTEND,
        env={**os.environ, "HEARTH_BASE_URL": base_url, "HEARTH_CHROMIUM": CHROMIUM, "CI": "1", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    text = output.decode(errors="replace")
    print(text)
    assert process.returncode == 0, text
    assert " passed" in text and " failed" not in text, text
    assert may_skip or "skipped" not in text, text
    return text
