"""How much does Hearth's stack cost per request? GET /api/v1/me against a bare Starlette +
asyncpg app running the same query, both under the same uvicorn settings, driven by wrk.

    .venv/bin/python bench/api_baseline.py [--duration 10] [--connections 4,16]

DATABASE_URL names the PostgreSQL server's maintenance database (default
postgresql://postgres@127.0.0.1:5432/postgres); the run creates, migrates and finally drops
its own `hearth_bench` database there. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

BENCH_DB = "hearth_bench"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent
PASSWORD = "benchmark passphrase 1"


def user_by_id_sql() -> str:
    """The statement SqlUserRepository.get sends, rendered from the live table definition."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

    from infra.db.tables import users

    query = sa.select(users).where(users.c.id == sa.bindparam("user_id"))
    return str(query.compile(dialect=asyncpg_dialect.dialect()))


# --- the bare app, run in its own process by `api_baseline.py bare PORT DATABASE_URL SQL` ------


def serve_bare(port: int, database_url: str, sql: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        nonlocal pool
        # Hearth's engine allows pool_size 10 + max_overflow 10 connections; match it.
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20)
        yield
        await pool.close()

    async def me(request: Request) -> JSONResponse:
        assert pool is not None
        row = await pool.fetchrow(sql, uuid.UUID(request.headers["x-user-id"]))
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return JSONResponse({k: v if v is None else str(v) for k, v in row.items() if k != "password_hash"})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/me", me), Route("/healthz", healthz)], lifespan=lifespan)
    # The same settings `hearth serve` passes to uvicorn.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, proxy_headers=True)


# --- the driver --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
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
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        wait_until_up(health_url, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(name: str, url: str, headers: dict[str, str], connections: int, duration: int) -> Result:
    header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
    # One wrk thread: it easily outpaces a single uvicorn worker and leaves the other cores to the
    # server and PostgreSQL.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *header_args, url]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    # Latencies of error responses would flatter the server; refuse to report them.
    if "Non-2xx" in out or re.search(r"Socket errors: .*[1-9]", out):
        raise SystemExit(f"{name}: wrk saw errors:\n{out}")
    return Result(
        name=name,
        connections=connections,
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=latency_ms(out, "50%"),
        p99_ms=latency_ms(out, "99%"),
    )


def latency_ms(wrk_output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", wrk_output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def recreate_database(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    finally:
        await conn.close()


def register(base_url: str) -> tuple[str, str]:
    """(user id, email) of a new therapist: no client-practice lookup, so /me is one query."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "role": "therapist", "display_name": "Bench", "timezone": "UTC"}
    response = httpx.post(f"{base_url}/api/v1/auth/register", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["id"], email


def bearer(base_url: str, email: str) -> dict[str, str]:
    # A fresh token per measurement: access tokens live at most 10 minutes.
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": email, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def same_user(hearth_me: str, hearth_headers: dict[str, str], bare_me: str, bare_headers: dict[str, str]) -> None:
    a, b = httpx.get(hearth_me, headers=hearth_headers), httpx.get(bare_me, headers=bare_headers)
    if a.status_code != 200 or b.status_code != 200 or a.json()["id"] != b.json()["id"]:
        raise SystemExit(f"the two endpoints disagree:\n{a.status_code} {a.text}\n{b.status_code} {b.text}")


def print_results(results: list[Result]) -> None:
    print(f"\n{'server':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r.name:<28}{r.connections:>6}{r.requests_per_s:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}")
    print("\nHearth / bare")
    for hearth, bare in zip(results[::2], results[1::2], strict=True):
        print(
            f"  {hearth.connections:>3} conns: throughput {hearth.requests_per_s / bare.requests_per_s:.2f}x, "
            f"p50 {hearth.p50_ms / bare.p50_ms:.2f}x, p99 {hearth.p99_ms / bare.p99_ms:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", default="4,16", help="comma-separated concurrency levels (default 4,16)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")

    admin_url = os.environ.get("DATABASE_URL", DEFAULT_ADMIN_URL)
    bench_url = make_url(admin_url).set(database=BENCH_DB).render_as_string(hide_password=False)
    asyncio.run(recreate_database(admin_url))
    try:
        subprocess.run([str(BIN / "hearth"), "migrate"], env={**os.environ, "DATABASE_URL": bench_url}, check=True)
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as data_dir:
            results = measure(bench_url, data_dir, args)
        print_results(results)
    finally:
        asyncio.run(drop_database(admin_url))


def measure(bench_url: str, data_dir: str, args: argparse.Namespace) -> list[Result]:
    hearth_port, bare_port = free_port(), free_port()
    hearth, bare = f"http://127.0.0.1:{hearth_port}", f"http://127.0.0.1:{bare_port}"
    hearth_env = {
        "DATABASE_URL": bench_url,
        "HEARTH_LOG_LEVEL": "WARNING",
        # Development mode writes its signing key to the data dir; keep it out of the working tree.
        "HEARTH_DATA_DIR": data_dir,
        "HEARTH_SPA_DIR": "/nonexistent",
    }
    hearth_cmd = [str(BIN / "hearth"), "serve", "--host", "127.0.0.1", "--port", str(hearth_port)]
    bare_cmd = [sys.executable, __file__, "bare", str(bare_port), bench_url, user_by_id_sql()]

    with running(hearth_cmd, hearth_env, f"{hearth}/healthz"), running(bare_cmd, {}, f"{bare}/healthz"):
        user_id, email = register(hearth)
        hearth_me, bare_me = f"{hearth}/api/v1/me", f"{bare}/me"
        bare_headers = {"X-User-Id": user_id}
        same_user(hearth_me, bearer(hearth, email), bare_me, bare_headers)

        def run(connections: int, seconds: int) -> list[Result]:
            return [
                wrk("hearth GET /api/v1/me", hearth_me, bearer(hearth, email), connections, seconds),
                wrk("bare starlette+asyncpg", bare_me, bare_headers, connections, seconds),
            ]

        run(4, args.warmup)
        return [r for conns in args.connections.split(",") for r in run(int(conns), args.duration)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        serve_bare(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        main()
