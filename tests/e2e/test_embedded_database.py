"""`hearth serve` without DATABASE_URL runs an embedded PostgreSQL for its lifetime: stopping Hearth stops it too,
whether by Ctrl-C (SIGINT) or by a process manager's SIGTERM (docker stop, systemd)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from tests.support.processes import HearthProcess, hearth_env

START_TIMEOUT = 90.0  # initdb of a new cluster, migrations, then /readyz


def _postgres_running_on(pgdata: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().split(b"\0")
            if args and args[0].endswith(b"/postgres") and str(pgdata).encode() in args:
                return True
    return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
async def test_stopping_hearth_stops_its_embedded_postgresql(tmp_path, stop):
    env = hearth_env("", tmp_path / "data")
    del env["DATABASE_URL"]
    pgdata = tmp_path / "data" / "pgdata"
    hearth = HearthProcess(env, tmp_path)
    try:
        await hearth.start(START_TIMEOUT)
        assert _postgres_running_on(pgdata), "the embedded server runs from the data directory"
    finally:
        code = await hearth.stop(30, stop_signal=stop)
    left_running = _postgres_running_on(pgdata)
    abandoned = (pgdata / "postmaster.pid").exists()
    if left_running:  # never leave a server behind, also when the test fails
        os.kill(int((pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGQUIT)
    if stop == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, hearth.log_tail()
    assert not left_running, "the embedded PostgreSQL was left running"
    assert not abandoned, "it was shut down, not abandoned"
