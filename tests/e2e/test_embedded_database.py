"""`hearth serve` without DATABASE_URL runs an embedded PostgreSQL for its lifetime: stopping Hearth stops it too,
whether by Ctrl-C (SIGINT) or by a process manager's SIGTERM (docker stop, systemd)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.processes import HEARTH, free_port, hearth_env

START_TIMEOUT = 90.0  # initdb of a new cluster, migrations, then /readyz
STOP_TIMEOUT = 30.0


def _postgres_running_on(pgdata: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            if args and args[0].endswith(b"/postgres") and str(pgdata).encode() in args:
                return True
    return False


async def _ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            assert process.poll() is None, f"hearth serve exited during startup:\n{log.read_text(errors='replace')}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"not ready:\n{log.read_text(errors='replace')}"
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_stopping_hearth_stops_its_embedded_postgresql(tmp_path, stop):
    env = hearth_env("", tmp_path / "data")
    del env["DATABASE_URL"]
    pgdata = tmp_path / "data" / "pgdata"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(HEARTH), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await _ready(f"http://127.0.0.1:{port}", process, log)
        assert _postgres_running_on(pgdata), "the embedded server runs from the data directory"
        process.send_signal(stop)
        code = await asyncio.to_thread(process.wait, STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    left_running = _postgres_running_on(pgdata)
    abandoned = (pgdata / "postmaster.pid").exists()
    if left_running:  # never leave a server behind, also when the test fails
        os.kill(int((pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
    if stop == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, log.read_text(errors="replace")
    assert not left_running, "the embedded PostgreSQL was left running"
    assert not abandoned, "it was shut down, not abandoned"
