"""How much does Hearth's stack cost per request? GET /api/v1/me against a bare Starlette +
asyncpg app running the same query, both under the same uvicorn settings, driven by wrk.

    .venv/bin/python bench/api_baseline.py [--duration 10] [--connections 4,16]

DATABASE_URL names the PostgreSQL server's maintenance database (default
postgresql://postgres@127.0.0.1:5432/postgres); the run creates, migrates and finally drops
its own `hearth_bench` database there. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import uuid

import asyncpg
import httpx
from _common import (
    Result,
    admin_url,
    database_url,
    drop_database,
    free_port,
    hearth_command,
    hearth_env,
    migrate,
    print_results,
    recreate_database,
    running,
    wrk,
)

BENCH_DB = "hearth_bench"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", default="4,16", help="comma-separated concurrency levels (default 4,16)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")

    admin = admin_url()
    bench_url = database_url(admin, BENCH_DB)
    recreate_database(admin, BENCH_DB)
    try:
        migrate(bench_url)
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as data_dir:
            results = measure(bench_url, data_dir, args)
        print_results(results)
    finally:
        drop_database(admin, BENCH_DB)


def measure(bench_url: str, data_dir: str, args: argparse.Namespace) -> list[Result]:
    hearth_port, bare_port = free_port(), free_port()
    hearth, bare = f"http://127.0.0.1:{hearth_port}", f"http://127.0.0.1:{bare_port}"
    bare_cmd = [sys.executable, __file__, "bare", str(bare_port), bench_url, user_by_id_sql()]

    with (
        running(hearth_command(hearth_port), hearth_env(bench_url, data_dir), f"{hearth}/healthz"),
        running(bare_cmd, {}, f"{bare}/healthz"),
    ):
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
