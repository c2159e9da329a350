"""Messaging throughput: raw uvicorn WebSocket echo against Hearth's `send` -> `ack` (encrypted, persisted), with
a bare store-and-ack server in between (`serve_bare`) as the floor any durable server pays on this machine.

    .venv/bin/python bench/messaging.py                          # 1 and 16 connections, 3 rounds of 10 s; ~4 minutes
    .venv/bin/python bench/messaging.py --duration 5 --connections 1,4,16 --rounds 1
    .venv/bin/python bench/messaging.py --keep-rate-limit        # Hearth exactly as `hearth serve` runs it
    .venv/bin/python bench/messaging.py --py-spy /path/to/py-spy --profile-dir /tmp/prof   # and profile Hearth

Each connection sends its next frame when the previous one is answered (the echo, or the `ack`), so the figures are
round trips. Target (issue 5): at 16 connections Hearth's throughput is at least 0.25x the echo's, with p99 at most
10 ms; the exit status is 1 when it is missed. DATABASE_URL names the PostgreSQL server's maintenance database
(default postgresql://postgres@127.0.0.1:5432/postgres); the run creates, migrates and finally drops its own
`hearth_bench_msg` database there. See bench/README.md.

`messaging.py echo PORT`, `messaging.py bare PORT DATABASE_URL` and `messaging.py hearth PORT [--keep-rate-limit]` are
the three servers (run by the bench).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

BENCH_DB = "hearth_bench_msg"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark passphrase 1"
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.25
TARGET_P99_MS = 10.0
WARMUP_S = 2.0
REPLY_TIMEOUT_S = 10.0
# The frame both servers answer: the echo sends it back, Hearth stores it and acks it.
BODY = "Could we move Tuesday's session to the afternoon? Anything after 2 pm works for me."


# --- the two servers, each run in its own process -------------------------------------------------------------


def uvicorn_options(port: int) -> dict[str, object]:
    """What `hearth serve` passes to uvicorn (api/cli.py), so both servers run the same loop and protocol stack."""
    from api.cli import SERVE_OPTIONS

    return {"host": "127.0.0.1", "port": port, **SERVE_OPTIONS}


def serve_echo(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.send_text(await socket.receive_text())

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[WebSocketRoute("/ws", echo), Route("/healthz", healthz)])
    uvicorn.run(app, **uvicorn_options(port))


def serve_bare(port: int, database: str) -> None:
    """The floor of any server that stores a message before acknowledging it: each `send` frame's body is sealed
    (XChaCha20-Poly1305, one fixed key) and the frames that arrive together are stored with one INSERT, committed
    on its own (autocommit), then acked. No access check, no idempotency, no seq, no audit, no fan-out: what Hearth
    does on top of this is its own cost; this is the part every durable chat server pays."""
    import uvicorn
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt as seal
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from domain.messaging.batching import Batcher

    key = os.urandom(32)
    pool: asyncpg.Pool | None = None

    async def keep_as_is(_connection: asyncpg.Connection) -> None:
        return None

    async def store(frames: Sequence[dict[str, str]]) -> list[None]:
        nonlocal pool
        if pool is None:
            # Only autocommit INSERTs run on it: nothing to reset between uses (as Hearth's bus publish pool).
            pool = await asyncpg.create_pool(database, min_size=1, max_size=2, reset=keep_as_is)
        await pool.execute(
            "INSERT INTO bench_bare_messages (conversation_id, client_message_id, body) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])",
            [f["conversation_id"] for f in frames],
            [f["client_message_id"] for f in frames],
            [seal(f["body"].encode(), f["conversation_id"].encode(), os.urandom(24), key) for f in frames],
        )
        return [None] * len(frames)

    # The same group commit as Hearth's sends (a lone frame is a batch of one; up to 64 together).
    stores: Batcher[dict[str, str], None] = Batcher(store, 64)

    async def endpoint(socket: WebSocket) -> None:
        await socket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                frame = json.loads(await socket.receive_text())
                await stores.submit(frame)
                ack = {"type": "ack", "client_message_id": frame["client_message_id"], "duplicate": False}
                await socket.send_text(json.dumps(ack))

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint), Route("/healthz", healthz)])
    uvicorn.run(app, **uvicorn_options(port))


def serve_hearth(port: int, keep_rate_limit: bool) -> None:
    """`hearth serve` itself (same function, same settings from the environment), with the per-user frame limit
    lifted unless asked: it allows 20 frames a second per user, which would cap the 1-connection case at 20
    messages a second and measure the limiter instead of the work (the limit has no setting)."""
    if not keep_rate_limit:
        from api.ws.hub import Hub

        Hub.allow = lambda self, principal: True
    from api.cli import serve

    serve(host="127.0.0.1", port=port)


# --- plumbing --------------------------------------------------------------------------------------------------


def admin_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_ADMIN_URL)


def database_url(admin: str, name: str) -> str:
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def admin_execute(admin: str, *statements: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], health_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server until the block ends; yields its process once `health_url` answers 200 (60 s at most)."""
    process = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{command[2]} server exited with code {process.returncode} during startup")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(health_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"{health_url} did not come up in 60 s")
            time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- load ------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    connections: int
    messages: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    server_cpu_s: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")

    @property
    def cpu_ms_per_message(self) -> float:
        return self.server_cpu_s * 1000 / self.messages if self.messages else float("nan")


class Driver:
    """One connection's loop: send, wait for the answer, record the round trip, repeat until `stop`."""

    def __init__(self, make_frame, is_answer) -> None:
        self.make_frame = make_frame
        self.is_answer = is_answer
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    async def run(self, ws, measure_from: float, stop: float) -> None:
        n = 0
        while (now := time.perf_counter()) < stop:
            await ws.send(self.make_frame(n))
            while True:
                frame = await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S)
                verdict = self.is_answer(frame)
                if verdict is not None:
                    break
            if verdict is True:
                n += 1
                if now >= measure_from:
                    self.latencies.append((time.perf_counter() - now) * 1000)
                continue
            # Refused, so not stored: the same message again (after a pause, when it was the rate limit).
            self.errors[verdict] += 1
            if verdict == "rate_limited":
                await asyncio.sleep(0.05)
            elif sum(self.errors.values()) - self.errors["rate_limited"] > 100:
                raise SystemExit(f"too many error frames: {dict(self.errors)}")


async def measure(name: str, sockets: list, frames, server_pid: int, duration: float) -> Result:
    """Warm up for WARMUP_S, then measure `duration` seconds on every socket at once."""
    drivers = [Driver(*frames(i)) for i in range(len(sockets))]
    start = time.perf_counter()
    measure_from = start + WARMUP_S
    stop = measure_from + duration
    await asyncio.sleep(0)
    cpu_before: float | None = None

    async def sample_cpu() -> None:
        nonlocal cpu_before
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu_before = cpu_seconds(server_pid)

    sampler = asyncio.create_task(sample_cpu())
    await asyncio.gather(*(d.run(ws, measure_from, stop) for d, ws in zip(drivers, sockets, strict=True)))
    await sampler
    cpu = cpu_seconds(server_pid) - (cpu_before or 0.0)
    latencies = [x for d in drivers for x in d.latencies]
    errors: Counter[str] = Counter()
    for d in drivers:
        errors.update(d.errors)
    return Result(name, len(sockets), len(latencies), duration, latencies, cpu, errors)


def echo_frames(_i: int):
    frame = json.dumps({"type": "send", "conversation_id": "x", "client_message_id": "x", "body": BODY})
    return (lambda _n: frame), (lambda _raw: True)


def hearth_frames(run: str, conversation_id: str):
    def make(n: int) -> str:
        return json.dumps(
            {"type": "send", "conversation_id": conversation_id, "client_message_id": f"{run}-{n}", "body": BODY}
        )

    def is_answer(raw: str) -> bool | str | None:
        frame = json.loads(raw)
        if frame["type"] == "ack":
            if frame["duplicate"]:
                raise SystemExit(f"unexpected duplicate ack: {frame}")
            return True
        if frame["type"] == "error":
            return str(frame["code"])
        return None  # the push of our own message, a typing event...

    return make, is_answer


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Client:
    email: str
    token: str
    conversation_id: str


async def make_clients(url: str, count: int) -> list[Client]:
    """`count` client/therapist pairs, each in care (a booked session tomorrow) with its own conversation."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    hours = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 8)]
    profile = {
        "display_name": "Dr. Bench",
        "bio": "Benchmarks.",
        "licenses": ["US-NY"],
        "specialties": ["anxiety"],
        "languages": ["en"],
        "modalities": ["video"],
        "session_lengths": [50],
        "rates": [{"duration_minutes": 50, "amount_minor": 12000, "currency": "USD"}],
        "timezone": "America/New_York",
        "accepting_new_clients": True,
        "caseload_capacity": 25,
        "cancellation_window_hours": 24,
    }
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:

        async def user(role: str, tag: str) -> tuple[str, dict[str, str], str]:
            email = f"bench-{role}-{tag}-{os.urandom(4).hex()}@example.com"
            body = {"email": email, "password": PASSWORD, "role": role, "display_name": f"Bench {role}"}
            registered = await api.post("/api/v1/auth/register", json={**body, "timezone": "America/New_York"})
            registered.raise_for_status()
            token = await api.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            token.raise_for_status()
            return email, {"Authorization": f"Bearer {token.json()['access_token']}"}, registered.json()["id"]

        async def pair(i: int) -> Client:
            _, therapist, therapist_id = await user("therapist", str(i))
            current = await api.get("/api/v1/therapists/me/profile", headers=therapist)
            put = await api.put(
                "/api/v1/therapists/me/profile",
                json=profile,
                headers={**therapist, "If-Match": current.headers["etag"]},
            )
            put.raise_for_status()
            office = {
                "timezone": "America/New_York",
                "weekly": hours,
                "exceptions": [],
                "buffer_minutes": 0,
                "max_sessions_per_day": None,
                "min_notice_minutes": 0,
                "horizon_days": 60,
            }
            (await api.put("/api/v1/therapists/me/office-hours", json=office, headers=therapist)).raise_for_status()
            email, client, _ = await user("client", str(i))
            booking = {"therapist_id": therapist_id, "start": f"{day}T15:00:00Z", "duration_minutes": 50}
            booked = await api.post("/api/v1/appointments", json={**booking, "modality": "video"}, headers=client)
            booked.raise_for_status()
            items = (await api.get("/api/v1/conversations", headers=client)).json()["items"]
            return Client(email, client["Authorization"], items[0]["id"])

        return list(await asyncio.gather(*(pair(i) for i in range(count))))


async def open_hearth_sockets(url: str, clients: list[Client]) -> list:
    import websockets

    sockets = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        for client in clients:
            ticket = await api.post("/api/v1/ws-tickets", headers={"Authorization": client.token})
            ticket.raise_for_status()
            ws_url = url.replace("http://", "ws://") + f"/api/v1/ws?ticket={ticket.json()['ticket']}"
            sockets.append(await websockets.connect(ws_url, ping_interval=None, max_queue=None))
    return sockets


async def run_cases(
    args: argparse.Namespace, echo: tuple[str, int], bare: tuple[str, int], hearth: tuple[str, int], db: str
) -> list:
    """Each connection count runs `args.rounds` rounds of echo, bare, Hearth (alternated, so a slow spell of a
    shared machine hits all three); the table shows each server's median round, and the spread is printed."""
    counts = [int(c) for c in args.connections.split(",")]
    clients = await make_clients(hearth[0], max(counts))
    results: list[tuple[Result, Result, Result]] = []
    spread: list[list[tuple[Result, Result, Result]]] = []
    for count in counts:
        rounds = []
        for round_no in range(args.rounds):
            profile = bool(args.py_spy) and count == max(counts) and round_no == args.rounds - 1
            rounds.append(await one_round(args, count, echo, bare, hearth, clients, profile))
        spread.append(rounds)
        median = tuple(sorted((r[i] for r in rounds), key=lambda r: r.per_second)[len(rounds) // 2] for i in range(3))
        results.append(median)  # type: ignore[arg-type]
    conn = await asyncpg.connect(db)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM messages WHERE kind = 'user'")
    finally:
        await conn.close()
    return [results, stored, spread]


async def one_round(
    args: argparse.Namespace,
    count: int,
    echo: tuple[str, int],
    bare: tuple[str, int],
    hearth: tuple[str, int],
    clients: list[Client],
    profile: bool,
) -> tuple[Result, Result, Result]:
    import websockets

    (echo_url, echo_pid), (bare_url, bare_pid), (hearth_url, hearth_pid) = echo, bare, hearth
    ws_url = echo_url.replace("http://", "ws://") + "/ws"
    sockets = [await websockets.connect(ws_url, ping_interval=None, max_queue=None) for _ in range(count)]
    try:
        raw = await measure("uvicorn echo", sockets, echo_frames, echo_pid, args.duration)
    finally:
        await asyncio.gather(*(s.close() for s in sockets))
    ws_url = bare_url.replace("http://", "ws://") + "/ws"
    sockets = [await websockets.connect(ws_url, ping_interval=None, max_queue=None) for _ in range(count)]
    try:
        run = f"b{count}-{os.urandom(3).hex()}"
        floor = await measure(
            "bare store+ack",
            sockets,
            lambda i, run=run: hearth_frames(f"{run}-{i}", f"bare-{i}"),
            bare_pid,
            args.duration,
        )
    finally:
        await asyncio.gather(*(s.close() for s in sockets))
    sockets = await open_hearth_sockets(hearth_url, clients[:count])
    profiler = None
    if profile:
        out = Path(args.profile_dir) / f"hearth-{count}.txt"
        seconds = str(int(WARMUP_S + args.duration))
        profiler = await asyncio.create_subprocess_exec(
            *[args.py_spy, "record", "-p", str(hearth_pid), "-f", "raw", "-r", "250", "-o", str(out), "-d", seconds],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    try:
        run = f"c{count}-{os.urandom(3).hex()}"
        measured = await measure(
            "Hearth send->ack",
            sockets,
            lambda i, run=run: hearth_frames(f"{run}-{i}", clients[i].conversation_id),
            hearth_pid,
            args.duration,
        )
    finally:
        await asyncio.gather(*(s.close() for s in sockets))
    if profiler is not None:
        await asyncio.wait_for(profiler.wait(), 60)
    return raw, floor, measured


def print_spread(spread: list[list[tuple[Result, Result, Result]]]) -> None:
    if len(spread[0]) < 2:
        return
    print("\nrounds (msgs/s; the table shows each server's median round)")
    for rounds in spread:
        for i in range(3):
            figures = ", ".join(f"{r[i].per_second:.0f}" for r in rounds)
            print(f"{rounds[0][i].name:<20}{rounds[0][i].connections:>6}   {figures}")


def print_table(results: list[tuple[Result, Result, Result]], stored: int, keep_rate_limit: bool) -> bool:
    print(f"\n{'server':<20}{'conns':>6}{'msgs/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU ms/msg':>16}{'errors':>10}")
    for pair in results:
        for r in pair:
            errors = sum(r.errors.values())
            print(
                f"{r.name:<20}{r.connections:>6}{r.per_second:>10.0f}{r.percentile(0.5):>9.2f}"
                f"{r.percentile(0.99):>9.2f}{r.cpu_ms_per_message:>16.3f}{errors:>10}"
            )
    print("\n/ echo                   conns   throughput   p50 x   p99 x")
    for raw, *others in results:
        for other in others:
            ratio = other.per_second / raw.per_second
            p50 = other.percentile(0.5) / raw.percentile(0.5)
            p99 = other.percentile(0.99) / raw.percentile(0.99)
            print(f"{other.name:<25}{other.connections:>5}{ratio:>12.3f}x{p50:>8.1f}{p99:>8.1f}")
    raw, floor, hearth = max(results, key=lambda triple: triple[0].connections)
    ratio = hearth.per_second / raw.per_second
    met = ratio >= TARGET_RATIO and hearth.percentile(0.99) <= TARGET_P99_MS
    print(
        f"\ntarget at {hearth.connections} connections: >= {TARGET_RATIO}x echo throughput and p99 <= "
        f"{TARGET_P99_MS:.0f} ms: {'met' if met else 'MISSED'} ({ratio:.3f}x, p99 {hearth.percentile(0.99):.1f} ms)"
    )
    print(
        f"the bare store+ack floor reaches {floor.per_second / raw.per_second:.3f}x the echo here; Hearth reaches "
        f"{hearth.per_second / floor.per_second:.2f}x that floor"
    )
    limit = "kept (20 frames/s per user)" if keep_rate_limit else "lifted for the run (--keep-rate-limit keeps it)"
    print(f"Hearth's per-user frame rate limit: {limit}; messages stored by the run: {stored}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    for _, _, hearth in results:
        if hearth.errors:
            print(f"error frames at {hearth.connections} connections: {dict(hearth.errors)}")
    return met


def profile_summary(path: Path, top: int = 20) -> None:
    """Where Hearth's event loop spent its samples: by the outermost Hearth frame (what it was doing: a WebSocket
    frame, a delivery) and by the innermost one (the repository or service call, with the SQLAlchemy, asyncpg and
    PyNaCl work it caused). Idle thread-pool workers are left out."""
    if not path.exists():
        print(f"(no profile at {path})")
        return
    outer: Counter[str] = Counter()
    inner: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any("concurrent/futures/thread.py" in f for f in frames):
            continue
        n = int(count)
        total += n
        own = [f for f in frames if any(f" ({d}/" in f for d in ("api", "domain", "infra")) and "api/cli.py" not in f]
        # SQLAlchemy runs its sync half in greenlets: py-spy shows those stacks without the awaiting caller.
        root = frames[0].split(":")[0] + ")" if "sqlalchemy/" in frames[0] else "(uvicorn, asyncio, websockets)"
        outer[own[0].split(" (")[0] if own else root] += n
        inner[own[-1].split(":")[0] + ")" if own else root] += n
    print(f"\nprofile of Hearth at the largest connection count ({total} event-loop samples, {path})")
    for title, counter in (("outermost Hearth frame", outer), ("innermost Hearth frame", inner)):
        print(f"-- by {title}")
        for key, n in counter.most_common(top):
            print(f"{n * 100 / total:6.1f}%  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per case (after 2 s warm-up)")
    parser.add_argument("--connections", default="1,16", help="comma-separated connection counts")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds per count; the median is shown")
    parser.add_argument("--keep-rate-limit", action="store_true", help="run Hearth with its per-user frame limit")
    parser.add_argument("--py-spy", help="py-spy binary: profile Hearth at the largest connection count")
    parser.add_argument("--profile-dir", default=".", help="where the py-spy profile goes (raw collapsed stacks)")
    args = parser.parse_args()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - Hearth's dependencies include it
        uvloop = None

    admin = admin_url()
    db = database_url(admin, BENCH_DB)
    work = Path(tempfile.mkdtemp(prefix="hearth-bench-msg-"))
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'
    asyncio.run(admin_execute(admin, drop, f'CREATE DATABASE "{BENCH_DB}"'))
    try:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")},
            "DATABASE_URL": db,
            "HEARTH_DATA_DIR": str(work / "data"),
            "HEARTH_LOG_LEVEL": "WARNING",
            "HEARTH_SPA_DIR": "/nonexistent",
            "HEARTH_JOBS_IN_PROCESS": "false",
            # Registration and login only (not measured): cheap password hashing keeps the setup short.
            "HEARTH_ARGON2_TIME_COST": "1",
            "HEARTH_ARGON2_MEMORY_KIB": "8192",
        }
        subprocess.run([str(BIN / "hearth"), "migrate"], env=env, check=True)
        asyncio.run(
            admin_execute(
                db,
                "CREATE TABLE bench_bare_messages (id bigserial PRIMARY KEY, conversation_id text NOT NULL, "
                "client_message_id text NOT NULL, body bytea NOT NULL)",
            )
        )
        me = [sys.executable, str(Path(__file__).resolve())]
        echo_port, bare_port, hearth_port = free_port(), free_port(), free_port()
        hearth_cmd = [*me, "hearth", str(hearth_port), *(["--keep-rate-limit"] if args.keep_rate_limit else [])]
        with (
            running([*me, "echo", str(echo_port)], env, f"http://127.0.0.1:{echo_port}/healthz") as echo,
            running([*me, "bare", str(bare_port), db], env, f"http://127.0.0.1:{bare_port}/healthz") as bare,
            running(hearth_cmd, env, f"http://127.0.0.1:{hearth_port}/readyz") as hearth,
        ):
            cases = run_cases(
                args,
                (f"http://127.0.0.1:{echo_port}", echo.pid),
                (f"http://127.0.0.1:{bare_port}", bare.pid),
                (f"http://127.0.0.1:{hearth_port}", hearth.pid),
                db,
            )
            results, stored, spread = uvloop.run(cases) if uvloop else asyncio.run(cases)
        met = print_table(results, stored, args.keep_rate_limit)
        print_spread(spread)
        if args.py_spy:
            profile_summary(Path(args.profile_dir) / f"hearth-{max(r.connections for r, _, _ in results)}.txt")
    finally:
        asyncio.run(admin_execute(admin, drop))
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "echo":
        serve_echo(int(sys.argv[2]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "hearth":
        serve_hearth(int(sys.argv[2]), keep_rate_limit="--keep-rate-limit" in sys.argv[3:])
    else:
        main()
