"""Runs the call spec (frontend/e2e/call.spec.ts) in real Chromium with fake media against the real app, inside a
private network namespace so that every ICE candidate and media packet stays on loopback.

Outside the namespace this test re-runs itself under `unshare -n` (root, as here); inside it PostgreSQL is
reached over its unix socket, since the namespace has no route to 127.0.0.1:5432 of the host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.playwright import FRONTEND, ROOT, run_playwright

SOCKET_DIR = os.environ.get("HEARTH_PG_SOCKET_DIR", "/var/run/postgresql")
INSIDE = "HEARTH_IN_NETNS"

pytestmark = pytest.mark.browser


@pytest.mark.skipif(bool(os.environ.get(INSIDE)), reason="the outer run only")
def test_calls_in_a_private_network_namespace():
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    unshare = shutil.which("unshare")
    assert unshare and Path(SOCKET_DIR, ".s.PGSQL.5432").exists(), "needs unshare and PostgreSQL's unix socket"
    env = {
        **os.environ,
        INSIDE: "1",
        "DATABASE_URL": f"postgresql://postgres@/postgres?host={SOCKET_DIR}",
        # The media relay (when wired in) offers only loopback here: the namespace has nothing else.
        "HEARTH_RELAY_HOST_ADDRESSES": '["127.0.0.1"]',
    }
    inner = f"ip link set lo up && exec {sys.executable} -m pytest {__file__} -q -x -p no:cacheprovider -s"
    result = subprocess.run(
        [unshare, "-n", "sh", "-c", inner], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500
    )
    print(result.stdout[-20000:], result.stderr[-5000:])
    assert result.returncode == 0, result.stdout[-5000:]
    assert " passed" in result.stdout


@pytest.mark.skipif(not os.environ.get(INSIDE), reason="runs inside the network namespace only")
async def test_call_spec(settings):
    from api.main import create_app
    from tests.support.server import serve

    app = create_app(settings.model_copy(update={"spa_dir": FRONTEND / "dist", "bus": "postgres"}))
    async with serve(app) as url:
        # The relayed call skips itself when the server has no relay: here the real one is wired, so nothing may skip.
        await run_playwright(url, ["e2e/call.spec.ts"], {"HEARTH_CALL_TESTS": "1"}, timeout=1200)
