"""`hearth serve` as real subprocesses, for tests that restart, kill or multiply the API process.

Each `HearthProcess` keeps its port across restarts (clients reconnect to the same URL) and writes its output to
a log file whose tail is shown when it fails to start. Processes given the same `data_dir` share the development
signing and payload-encryption keys kept there, so a token or a sealed body from one is good on the others; start
the first one before the others (it creates the keys).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

HEARTH = Path(sys.executable).parent / "hearth"
START_TIMEOUT = 60.0  # seconds: migrations, then uvicorn, then /readyz
STOP_TIMEOUT = 15.0  # seconds of graceful shutdown before SIGKILL


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel's pick; it may be taken again in between, which
    `start` reports as an early exit)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hearth_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: this one without its HEARTH_* and DATABASE_URL variables (so a developer's
    shell cannot change what the test runs), then the test's settings, then `extra` (HEARTH_BUS=redis, ...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=database_url,
        HEARTH_DATA_DIR=str(data_dir),
        HEARTH_LOG_LEVEL="WARNING",
        HEARTH_SPA_DIR="/nonexistent",
        HEARTH_JOBS_IN_PROCESS="false",
        # Cheap hashing, as the in-process tests use: registering and logging in stay fast.
        HEARTH_ARGON2_TIME_COST="1",
        HEARTH_ARGON2_MEMORY_KIB="8192",
    )
    env.update(extra)
    return env


class HearthProcess:
    """One `hearth serve --host 127.0.0.1 --port N` subprocess that can be started, stopped, killed and started
    again on the same port."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, name: str = "hearth", port: int | None = None) -> None:
        self.env = env
        self.name = name
        self.port = port or free_port()
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the process and return once `/readyz` answers 200 (the database is reachable and migrated)."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts + 1} at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(HEARTH), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        try:
            await self._wait_ready(timeout)
        except BaseException:
            await self.kill()
            raise

    async def stop(self, timeout: float = STOP_TIMEOUT, *, stop_signal: int = signal.SIGTERM) -> int | None:
        """Graceful: SIGTERM (uvicorn closes its WebSockets with 1012 and finishes what is in flight), then SIGKILL
        if it has not exited after `timeout` seconds. Returns the exit status (None: it was not running)."""
        process = self._process
        if process is None or process.poll() is not None:
            self._process = None
            return None if process is None else process.returncode
        process.send_signal(stop_signal)
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)
        self._process = None
        return process.returncode

    async def kill(self) -> None:
        """SIGKILL, as a crash: nothing in flight is finished, no socket is closed politely."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.wait, 10)
        self._process = None

    async def restart(self, *, crash: bool = False, timeout: float = START_TIMEOUT) -> None:
        await (self.kill() if crash else self.stop())
        await self.start(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while True:
                process = self._process
                if process is None or process.poll() is not None:
                    code = None if process is None else process.returncode
                    raise RuntimeError(f"{self.name} exited ({code}) during startup:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def hearth_processes(*processes: HearthProcess) -> AsyncIterator[tuple[HearthProcess, ...]]:
    """Start the processes one after the other (the first makes the shared keys), and stop every one of them at
    the end, also when the test failed."""
    try:
        for process in processes:
            await process.start()
        yield processes
    finally:
        for process in processes:
            with contextlib.suppress(Exception):
                await process.stop()
            if process.running:  # stop failed in an unexpected way: never leave a server behind
                await process.kill()
