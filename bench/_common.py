"""What the HTTP benchmarks share: a throwaway database, servers run as subprocesses, wrk and the table.

Imported by the scripts beside it (`.venv/bin/python bench/NAME.py` puts bench/ first on sys.path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


# --- the database ------------------------------------------------------------------------------------------


def admin_url() -> str:
    """The maintenance database named by DATABASE_URL, where the benchmark databases are made and dropped."""
    return os.environ.get("DATABASE_URL", DEFAULT_ADMIN_URL)


def database_url(admin: str, name: str) -> str:
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def _admin_execute(admin: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def recreate_database(admin: str, name: str) -> None:
    asyncio.run(_admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))


def drop_database(admin: str, name: str) -> None:
    asyncio.run(_admin_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def migrate(url: str) -> None:
    subprocess.run([str(BIN / "hearth"), "migrate"], env={**os.environ, "DATABASE_URL": url}, check=True)


# --- servers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with code {process.returncode} during startup")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout:.0f} s")


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[subprocess.Popen]:  # type: ignore[type-arg]
    """Run a server until the block ends; yields its process once `health_url` answers 200."""
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        wait_until_up(health_url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hearth_command(port: int) -> list[str]:
    return [str(BIN / "hearth"), "serve", "--host", "127.0.0.1", "--port", str(port)]


def hearth_env(url: str, data_dir: str, **extra: str) -> dict[str, str]:
    """`hearth serve` settings for a benchmark: warnings only, no SPA, the signing key kept in `data_dir`."""
    return {
        "DATABASE_URL": url,
        "HEARTH_LOG_LEVEL": "WARNING",
        # Development mode writes its signing key to the data dir; keep it out of the working tree.
        "HEARTH_DATA_DIR": data_dir,
        "HEARTH_SPA_DIR": "/nonexistent",
        **extra,
    }


# --- load --------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # only when a Lua script counted them
    consumed: int = 0  # requests wrk_replay.lua took from its file
    wrapped: int = 0  # how often wrk_replay.lua started its file again
    server_cpu_ms: float = 0.0  # CPU per response of the server process (see CpuMeter)
    db_cpu_ms: float = 0.0  # and of the PostgreSQL backends


def wrk(
    name: str,
    url: str,
    headers: dict[str, str],
    connections: int,
    duration: int,
    *,
    script: Path | None = None,
    script_args: Sequence[str] = (),
    allowed_statuses: frozenset[int] | None = None,
) -> Result:
    """One wrk run with one thread (it easily outpaces a single uvicorn worker and leaves the other cores to the
    server and PostgreSQL). Refuses to report latencies when anything failed: without `allowed_statuses`, any
    non-2xx response; with it (a Lua script that prints `status N COUNT` lines), any status outside it."""
    header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *header_args]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", out, re.M)}
    if re.search(r"Socket errors: .*[1-9]", out):
        raise SystemExit(f"{name}: wrk saw socket errors:\n{out}")
    if allowed_statuses is None:
        if "Non-2xx" in out:
            raise SystemExit(f"{name}: wrk saw non-2xx responses:\n{out}")
    elif not statuses or set(statuses) - allowed_statuses:
        raise SystemExit(f"{name}: responses other than {sorted(allowed_statuses)}:\n{out}")
    consumed = re.search(r"^consumed (\d+)$", out, re.M)
    wrapped = re.search(r"^wrapped (\d+)$", out, re.M)
    return Result(
        name=name,
        connections=connections,
        requests_per_s=float(_search(r"Requests/sec:\s+([\d.]+)", out)),
        p50_ms=latency_ms(out, "50%"),
        p99_ms=latency_ms(out, "99%"),
        requests=int(_search(r"(\d+) requests in", out)),
        statuses=statuses,
        consumed=int(consumed.group(1)) if consumed else 0,
        wrapped=int(wrapped.group(1)) if wrapped else 0,
    )


def _search(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise SystemExit(f"unexpected wrk output (no {pattern!r}):\n{text}")
    return found.group(1)


def latency_ms(wrk_output: str, percentile: str) -> float:
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", wrk_output, re.M)
    if found is None:
        raise SystemExit(f"unexpected wrk output (no {percentile} latency):\n{wrk_output}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def print_results(results: list[Result]) -> None:
    """The API/bare table for results given as (hearth, bare) pairs, in that order."""
    print(f"\n{'server':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r.name:<28}{r.connections:>6}{r.requests_per_s:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}")
    print("\nHearth / bare")
    for hearth, bare in zip(results[::2], results[1::2], strict=True):
        print(
            f"  {hearth.connections:>3} conns: throughput {hearth.requests_per_s / bare.requests_per_s:.2f}x, "
            f"p50 {hearth.p50_ms / bare.p50_ms:.2f}x, p99 {hearth.p99_ms / bare.p99_ms:.2f}x"
        )


# --- what a request costs besides wall-clock time ---------------------------------------------------------------

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat(5)


async def _backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


class CpuMeter:
    """CPU seconds used during a block by one server process and by the PostgreSQL backends connected to one
    database (same machine only: it reads /proc). Backends that appear during the block count from zero."""

    def __init__(self, server_pid: int, database_url: str) -> None:
        self._pid = server_pid
        self._url = database_url
        self.server = self.database = 0.0

    def __enter__(self) -> CpuMeter:
        self._server0 = cpu_seconds(self._pid)
        self._backends0 = {pid: cpu_seconds(pid) for pid in asyncio.run(_backend_pids(self._url))}
        return self

    def __exit__(self, *exc: object) -> None:
        self.server = cpu_seconds(self._pid) - self._server0
        pids = asyncio.run(_backend_pids(self._url))
        self.database = sum(cpu_seconds(pid) - self._backends0.get(pid, 0.0) for pid in pids)


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --- counting round trips to PostgreSQL -----------------------------------------------------------------------


class PgTrace:
    """A TCP proxy in front of PostgreSQL that notes what its clients send: one round trip per Sync (extended
    query protocol) or Query (simple protocol) message, and the SQL of each statement executed (Bind is mapped
    back to its Parse, per connection). Runs its own event loop in a daemon thread; point a server's DATABASE_URL
    at `url(...)`, send one request at a time, `reset()` before and read `round_trips()` / `statements()` after."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._sent: list[tuple[str, str]] = []  # ("sync" | "query" | "bind", sql)
        self._ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True).start()
        if not self._ready.wait(10):
            raise SystemExit("the PostgreSQL tracing proxy did not start")

    def url(self, database_url: str) -> str:
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def reset(self) -> None:
        self._sent.clear()

    def round_trips(self) -> int:
        return sum(1 for kind, _ in self._sent if kind in ("sync", "query"))

    def statements(self) -> list[str]:
        return [" ".join(sql.split()) for kind, sql in self._sent if kind in ("query", "bind")]

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        back = asyncio.create_task(self._pipe(server_reader, client_writer))
        buffer, startup, parsed = b"", True, {}
        try:
            while data := await client_reader.read(65536):
                server_writer.write(data)
                await server_writer.drain()
                buffer += data
                while True:
                    if startup:  # SSLRequest / StartupMessage / ...: no type byte
                        if len(buffer) < 8 or len(buffer) < (n := int.from_bytes(buffer[:4])):
                            break
                        startup = int.from_bytes(buffer[4:8]) != 196608  # protocol 3.0: typed messages follow
                        buffer = buffer[n:]
                        continue
                    if len(buffer) < 5 or len(buffer) < 1 + (n := int.from_bytes(buffer[1:5])):
                        break
                    kind, body, buffer = buffer[:1], buffer[5 : 1 + n], buffer[1 + n :]
                    if kind == b"Q":
                        self._sent.append(("query", body.rstrip(b"\0").decode()))
                    elif kind == b"P":
                        name, rest = body.split(b"\0", 1)
                        parsed[name] = rest.split(b"\0", 1)[0].decode()
                    elif kind == b"B":
                        name = body.split(b"\0", 2)[1]
                        self._sent.append(("bind", parsed.get(name, "?")))
                    elif kind == b"S":
                        self._sent.append(("sync", ""))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            server_writer.close()
            back.cancel()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
