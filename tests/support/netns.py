"""Run tests inside a private network namespace that has only loopback (`unshare -n`, root needed).

Media tests open UDP sockets and gather ICE candidates: inside the namespace they can reach nothing but each other.
`rerun_in_netns(nodeid)` re-runs one pytest node there and raises with its output when it fails; a conftest wires it
with `pytest_pyfunc_call` so plain `pytest tests/media` works from outside (see tests/media/conftest.py). Nothing in
the namespace reaches the host's PostgreSQL or Redis (another loopback): such tests need a server started inside.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

INSIDE = "HEARTH_TEST_NETNS"
ROOT = Path(__file__).resolve().parents[2]


def inside() -> bool:
    return os.environ.get(INSIDE) == "1"


def only_loopback() -> bool:
    # /sys/class/net shows the mount namespace's view; if_nameindex asks the kernel for this network namespace.
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def netns_command(argv: Sequence[str]) -> list[str]:
    """`argv` wrapped to run in a fresh network namespace with loopback up."""
    return ["unshare", "-n", "sh", "-c", "ip link set lo up && exec " + shlex.join(argv)]


def run_in_netns(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 300.0, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {}), INSIDE: "1"}
    return subprocess.run(
        netns_command(argv), env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def rerun_in_netns(nodeid: str, *, timeout: float = 300.0) -> None:
    argv = [sys.executable, "-m", "pytest", nodeid, "-q", "-p", "no:cacheprovider", "--no-header", "-x"]
    result = run_in_netns(argv, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(
            f"{nodeid} failed in a private network namespace:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
        )
