"""Slot search and booking through Hearth's API against a bare Starlette + asyncpg app sending the same SQL, on one
PostgreSQL seeded with 1,000 therapists and 300,000 appointments, driven by wrk.

    .venv/bin/python bench/scheduling.py [--duration 12] [--connections 4,16]
    .venv/bin/python bench/scheduling.py --py-spy /path/to/py-spy --profile-dir /tmp/prof   # and profile Hearth

DATABASE_URL names the PostgreSQL server's maintenance database (default
postgresql://postgres@127.0.0.1:5432/postgres); the run creates, migrates, seeds and finally drops its own
`hearth_bench_sched` database there. Target (issue 3), at 4 connections: Hearth's throughput at least 0.5x the
bare app's and its p99 latency at most 2x. The exit status is 1 when a target is missed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _common import (
    HERE,
    CpuMeter,
    PgTrace,
    Result,
    admin_url,
    database_url,
    drop_database,
    free_port,
    hearth_command,
    hearth_env,
    load_average,
    migrate,
    recreate_database,
    running,
    wrk,
)
from sqlalchemy.engine import make_url

BENCH_DB = "hearth_bench_sched"
THERAPISTS = 1000
APPOINTMENTS_PER_THERAPIST = 300
CLIENTS_PER_THERAPIST = 5  # who hold the seeded appointments; each belongs to one therapist, so none overlap
PASSWORD = "benchmark passphrase 1"
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "UTC")
# Office hours: Monday to Saturday 08:00-18:00 local, 10 minutes' buffer, an hour's notice, 60 days ahead.
# Seeded sessions are 50 minutes on the hour, so any session of up to 50 minutes on a free hour fits.
WORKDAYS = range(1, 7)
FIRST_HOUR, LAST_HOUR = 8, 17  # session start hours
SESSION_LENGTHS = (20, 30, 50)
MODALITIES = ("video", "audio", "phone", "chat")
SLOT_WINDOW = timedelta(days=7)
# As domain/scheduling/service.py: busy time is loaded this far around the requested interval.
DAY_MARGIN = timedelta(days=2)
TARGET_THROUGHPUT, TARGET_P99 = 0.5, 2.0
SEND_REMINDER_JOB = "reminders.send"
PHONE_SESSION_CALL_JOB = "telephony.session_call"
NO_SHOW_JOB = "sessions.no_show"  # live sessions' no-show check, queued with each booking
NO_SHOW_AFTER = timedelta(minutes=15)


def user_id(kind: str, i: int) -> uuid.UUID:
    """The seeded ids: md5('therapist-7')::uuid in SQL."""
    import hashlib

    return uuid.UUID(hashlib.md5(f"{kind}-{i}".encode()).hexdigest())


# --- seeding -------------------------------------------------------------------------------------------------

SEED = [
    """INSERT INTO practices (id, name, kind, created_at)
       SELECT md5('practice-' || i)::uuid, 'Bench practice ' || i, 'independent', now()
       FROM generate_series(0, {n} - 1) AS i""",
    # therapists, then the clients holding the seeded appointments, then one booking client per therapist
    """INSERT INTO users (id, email, password_hash, role, display_name, timezone, practice_id, created_at)
       SELECT md5('therapist-' || i)::uuid, 'therapist-' || i || '@bench.hearth.test', {password_hash}, 'therapist',
              'Dr. Bench ' || i, ({zones}::text[])[1 + i % cardinality({zones}::text[])],
              md5('practice-' || i)::uuid, now()
       FROM generate_series(0, {n} - 1) AS i""",
    """INSERT INTO users (id, email, password_hash, role, display_name, timezone, practice_id, created_at)
       SELECT md5('client-' || i)::uuid, 'client-' || i || '@bench.hearth.test', {password_hash}, 'client',
              'Client ' || i, ({zones}::text[])[1 + i % cardinality({zones}::text[])], NULL, now()
       FROM generate_series(0, {n} * {clients_per} - 1) AS i""",
    """INSERT INTO users (id, email, password_hash, role, display_name, timezone, practice_id, created_at)
       SELECT md5('booker-' || i)::uuid, 'booker-' || i || '@bench.hearth.test', {password_hash}, 'client',
              'Booker ' || i, ({zones}::text[])[1 + (i + 3) % cardinality({zones}::text[])], NULL, now()
       FROM generate_series(0, {n} - 1) AS i""",
    """INSERT INTO care_relationships (id, client_id, therapist_id, practice_id, started_at)
       SELECT md5('care-' || c)::uuid, md5('client-' || c)::uuid, md5('therapist-' || c / {clients_per})::uuid,
              md5('practice-' || c / {clients_per})::uuid, now() - interval '400 days'
       FROM generate_series(0, {n} * {clients_per} - 1) AS c""",
    # the same documents SqlProfileRepository.save and SqlOfficeHoursRepository.save (_rules_doc) write
    """INSERT INTO therapist_profiles (therapist_id, practice_id, display_name, bio, timezone, licenses, specialties,
                                      languages, modalities, session_lengths, rates, accepting_new_clients,
                                      caseload_capacity, cancellation_window_hours, version, updated_at)
       SELECT md5('therapist-' || i)::uuid, md5('practice-' || i)::uuid, 'Dr. Bench ' || i,
              'Anxiety, grief and life transitions.', ({zones}::text[])[1 + i % cardinality({zones}::text[])],
              ARRAY['US-NY'], ARRAY['anxiety', 'grief'], ARRAY['en'], {modalities}::text[], {lengths}::int[],
              {rates}::jsonb,
              true, 25, 24, 1, now()
       FROM generate_series(0, {n} - 1) AS i""",
    """INSERT INTO office_hours (therapist_id, timezone, rules, buffer_minutes, max_sessions_per_day,
                                min_notice_minutes, horizon_days, version, updated_at)
       SELECT md5('therapist-' || i)::uuid, ({zones}::text[])[1 + i % cardinality({zones}::text[])], {rules}::jsonb,
              10, NULL, 60, 60, 1, now()
       FROM generate_series(0, {n} - 1) AS i""",
    # Candidate hours on local workdays from 400 days back to 58 days ahead, every sixth one taken; the latest
    # APPOINTMENTS_PER_THERAPIST of them kept (about 80 ahead, the rest past). Past: mostly completed, some
    # cancelled or no-shows; ahead: booked, some cancelled.
    """INSERT INTO appointments (id, therapist_id, client_id, practice_id, start_at, end_at, duration_minutes,
                                modality, status, cancel_reason, cancelled_by, cancelled_at, created_at, version)
       SELECT md5('appointment-' || i || '-' || rn)::uuid, md5('therapist-' || i)::uuid,
              md5('client-' || (i * {clients_per} + rn % {clients_per}))::uuid, md5('practice-' || i)::uuid,
              start_at, start_at + interval '50 minutes', 50, ({modalities}::text[])[1 + rn % 4],
              CASE WHEN start_at < now() THEN
                     CASE WHEN rn % 20 IN (0, 1) THEN 'cancelled' WHEN rn % 20 = 2 THEN 'no_show' ELSE 'completed' END
                   ELSE CASE WHEN rn % 20 = 0 THEN 'cancelled' ELSE 'booked' END END,
              NULL, CASE WHEN rn % 20 IN (0, 1) THEN 'client' END,
              CASE WHEN rn % 20 IN (0, 1) THEN start_at - interval '2 days' END,
              start_at - interval '14 days', 1
       FROM (
           SELECT i, ((d + make_time(h, 0, 0)) AT TIME ZONE tz) AS start_at,
                  row_number() OVER (PARTITION BY i ORDER BY d DESC, h DESC) AS rn
           FROM (
               SELECT i, ({zones}::text[])[1 + i % cardinality({zones}::text[])] AS tz
               FROM generate_series(0, {n} - 1) AS i
           ) t,
                generate_series(current_date - 400, current_date + 58, interval '1 day') AS day,
                LATERAL (SELECT day::date AS d) dd,
                generate_series({first_hour}::int, {last_hour}::int) AS h
           WHERE extract(isodow FROM d) = ANY({workdays}::int[]) AND ((d - DATE '2000-01-03') * 10 + h + i) % 6 = 0
       ) c
       WHERE rn <= {per_therapist}""",
]


async def seed(url: str) -> None:
    from infra.crypto.passwords import Argon2PasswordHasher
    from infra.settings import Settings

    settings = Settings()
    password_hash = Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    ).hash_sync(PASSWORD)
    rates = {str(n): {"amount_minor": 4000 + 160 * n, "currency": "USD"} for n in SESSION_LENGTHS}
    rules = {
        "weekly": [[d, f"{FIRST_HOUR:02d}:00", f"{LAST_HOUR + 1:02d}:00"] for d in WORKDAYS],
        "exceptions": [],
        "messaging": None,
    }
    values: dict[str, Any] = {
        "n": THERAPISTS,
        "password_hash": password_hash,
        "zones": list(ZONES),
        "clients_per": CLIENTS_PER_THERAPIST,
        "modalities": list(MODALITIES),
        "lengths": list(SESSION_LENGTHS),
        "rates": json.dumps(rates),
        "rules": json.dumps(rules),
        "first_hour": FIRST_HOUR,
        "last_hour": LAST_HOUR,
        "workdays": list(WORKDAYS),
        "per_therapist": APPOINTMENTS_PER_THERAPIST,
    }
    conn = await asyncpg.connect(url)
    try:
        for statement in SEED:
            text, names = positional(statement)
            await conn.execute(text, *(values[name] for name in names))
        await conn.execute("ANALYZE")
        count = await conn.fetchval("SELECT count(*) FROM appointments")
        if count != THERAPISTS * APPOINTMENTS_PER_THERAPIST:
            raise SystemExit(f"seeding made {count} appointments, not {THERAPISTS * APPOINTMENTS_PER_THERAPIST}")
    finally:
        await conn.close()


_SEED_TYPES = {"n": "int", "clients_per": "int", "per_therapist": "int", "password_hash": "text"}


def positional(statement: str) -> tuple[str, list[str]]:
    """`{name}` placeholders -> asyncpg's `$1`, `$2`, ... (typed where PostgreSQL cannot tell), and their names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        cast = f"::{_SEED_TYPES[name]}" if name in _SEED_TYPES else ""
        return f"${names.index(name) + 1}{cast}"

    return re.sub(r"\{(\w+)\}", number, statement), names


async def free_hours(url: str) -> list[tuple[int, datetime]]:
    """(therapist index, start) of every free hour 2 to 56 days ahead, in office hours: bookable by anybody."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            """SELECT i, start_at FROM (
                   SELECT i, md5('therapist-' || i)::uuid AS therapist_id,
                          ((d + make_time(h, 0, 0)) AT TIME ZONE ($2::text[])[1 + i % cardinality($2::text[])])
                              AS start_at
                   FROM generate_series(0, $1 - 1) AS i,
                        generate_series(current_date + 2, current_date + 56, interval '1 day') AS day,
                        LATERAL (SELECT day::date AS d) dd,
                        generate_series($3::int, $4::int) AS h
                   WHERE extract(isodow FROM d) = ANY($5::int[])
               ) c
               WHERE NOT EXISTS (
                   SELECT 1 FROM appointments a WHERE a.therapist_id = c.therapist_id AND a.start_at = c.start_at
               )""",
            THERAPISTS,
            list(ZONES),
            FIRST_HOUR,
            LAST_HOUR,
            list(WORKDAYS),
        )
    finally:
        await conn.close()
    return [(r["i"], r["start_at"]) for r in rows]


# --- the bare app, run in its own process by `scheduling.py bare PORT DATABASE_URL` ------------------------------


@dataclass(frozen=True)
class Sql:
    """A statement rendered by SQLAlchemy for asyncpg, with its parameters' names in positional order."""

    text: str
    names: tuple[str, ...]


def render(statement: Any, *names: str) -> Sql:
    from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

    compiled = statement.compile(dialect=asyncpg_dialect.dialect())
    order = tuple(compiled.positiontup or ())
    if order != names:
        raise RuntimeError(f"parameters of {compiled} come as {order}, not {names}")
    return Sql(str(compiled), order)


def bare_statements() -> dict[str, Sql]:
    """What the repositories send (infra/db/repositories/{identity,scheduling,audit}.py, built the same way from
    infra.db.tables), each with bind parameters instead of values."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    from infra.db.tables import (
        ACTIVE_APPOINTMENT_SQL,
        appointments,
        cancellation_policies,
        care_relationships,
        office_hours,
        therapist_profiles,
        users,
    )

    bp = sa.bindparam
    columns = [c for c in appointments.c if c.name != "during"]
    appointment_values = [
        "therapist_id",
        "client_id",
        "practice_id",
        "start_at",
        "end_at",
        "duration_minutes",
        "modality",
        "status",
        "series_id",
        "series_index",
        "cancel_reason",
        "cancelled_by",
        "cancelled_at",
        "policy_version",
        "created_at",
        "version",
    ]
    return {
        "user": render(sa.select(users).where(users.c.id == bp("id", type_=users.c.id.type)), "id"),
        "profile": render(
            sa.select(therapist_profiles).where(
                therapist_profiles.c.therapist_id == bp("id", type_=therapist_profiles.c.therapist_id.type)
            ),
            "id",
        ),
        "office_hours": render(
            sa.select(office_hours).where(
                office_hours.c.therapist_id == bp("id", type_=office_hours.c.therapist_id.type)
            ),
            "id",
        ),
        "current_policy": render(
            sa.select(cancellation_policies)
            .where(cancellation_policies.c.therapist_id == bp("id", type_=cancellation_policies.c.therapist_id.type))
            .order_by(cancellation_policies.c.version.desc())
            .limit(bp("limit", type_=sa.Integer)),
            "id",
            "limit",
        ),
        "lock": render(sa.select(sa.func.pg_advisory_xact_lock(bp("key", type_=sa.BigInteger))), "key"),
        # Slot search reads only the intervals (AppointmentRepository.busy); booking reads whole rows.
        "busy": render(
            sa.select(appointments.c.start_at, appointments.c.end_at)
            .where(
                appointments.c.therapist_id == bp("therapist_id", type_=appointments.c.therapist_id.type),
                appointments.c.start_at < bp("end", type_=appointments.c.start_at.type),
                appointments.c.end_at > bp("start", type_=appointments.c.end_at.type),
                sa.text(ACTIVE_APPOINTMENT_SQL),
            )
            .order_by(appointments.c.start_at),
            "therapist_id",
            "end",
            "start",
        ),
        "blocking": render(
            sa.select(*columns)
            .where(
                appointments.c.therapist_id == bp("therapist_id", type_=appointments.c.therapist_id.type),
                appointments.c.start_at < bp("end", type_=appointments.c.start_at.type),
                appointments.c.end_at > bp("start", type_=appointments.c.end_at.type),
                sa.text(ACTIVE_APPOINTMENT_SQL),
            )
            .order_by(appointments.c.start_at),
            "therapist_id",
            "end",
            "start",
        ),
        "insert_appointment": render(
            appointments.insert().values(
                id=bp("id", type_=appointments.c.id.type),
                **{name: bp(name, type_=appointments.c[name].type) for name in appointment_values},
            ),
            "id",
            *appointment_values,
        ),
        "ensure_care": render(
            pg_insert(care_relationships)
            .values(
                id=bp("id", type_=care_relationships.c.id.type),
                client_id=bp("client_id", type_=care_relationships.c.client_id.type),
                therapist_id=bp("therapist_id", type_=care_relationships.c.therapist_id.type),
                practice_id=bp("practice_id", type_=care_relationships.c.practice_id.type),
                started_at=bp("started_at", type_=care_relationships.c.started_at.type),
            )
            .on_conflict_do_nothing(
                index_elements=[care_relationships.c.client_id, care_relationships.c.therapist_id],
                index_where=care_relationships.c.ended_at.is_(None),
            )
            .returning(care_relationships.c.id),
            "id",
            "client_id",
            "therapist_id",
            "practice_id",
            "started_at",
        ),
    }


REMINDER_COLUMNS = ("id", "appointment_id", "recipient_id", "channel", "due_at", "status")


def reminders_insert_sql(rows: int) -> str:
    """SqlReminderRepository.schedule: one multi-row INSERT of an appointment's reminders."""
    import sqlalchemy as sa

    from infra.db.tables import reminders

    values = [
        {name: sa.bindparam(f"{name}_{i}", type_=reminders.c[name].type) for name in REMINDER_COLUMNS}
        for i in range(rows)
    ]
    names = [f"{name}_{i}" for i in range(rows) for name in REMINDER_COLUMNS]
    return render(reminders.insert().values(values), *names).text


def enqueue_sql() -> str:
    """pgqueuer's enqueue statement, as infra.jobs.queue.JobQueue.enqueue sends it."""
    from pgqueuer.adapters.persistence.qb import QueryQueueBuilder

    from infra.jobs.schema import pgqueuer_db_settings

    return QueryQueueBuilder(settings=pgqueuer_db_settings()).build_enqueue_query("raise")


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code


def serve_bare(port: int, url: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from domain.audit.events import AuditEvent, Outcome, canonical
    from domain.scheduling.model import DateException, OfficeHours, TimeRange, WeeklyRule
    from domain.scheduling.reminders import DEFAULT_REMINDER_OFFSETS, reminder_due_times
    from domain.scheduling.slots import available_slots, check_bookable
    from domain.shared.errors import ValidationFailed
    from infra.db.repositories.audit import AUDIT_CHAIN_LOCK
    from infra.jobs.queue import DUE_AT_HEADER, encode_payload

    sql = {name: s.text for name, s in bare_statements().items()}
    enqueue = enqueue_sql()
    reminder_inserts: dict[int, str] = {}
    pool: asyncpg.Pool | None = None

    def hours_of(row: asyncpg.Record) -> OfficeHours:
        from datetime import time as wall

        doc = json.loads(row["rules"])
        return OfficeHours(
            timezone=row["timezone"],
            weekly=tuple(WeeklyRule(d, wall.fromisoformat(s), wall.fromisoformat(e)) for d, s, e in doc["weekly"]),
            exceptions=tuple(
                DateException(
                    date.fromisoformat(d), tuple(TimeRange(wall.fromisoformat(s), wall.fromisoformat(e)) for s, e in rs)
                )
                for d, rs in doc["exceptions"]
            ),
            buffer_minutes=row["buffer_minutes"],
            max_sessions_per_day=row["max_sessions_per_day"],
            min_notice_minutes=row["min_notice_minutes"],
            horizon_days=row["horizon_days"],
        )

    def offered(profile: asyncpg.Record | None, duration: int, modality: str) -> None:
        if profile is None:
            raise Refused(404, "not_found")
        if duration not in profile["session_lengths"]:
            raise Refused(422, "duration_not_offered")
        if modality not in profile["modalities"]:
            raise Refused(422, "modality_not_offered")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        nonlocal pool
        # Hearth's engine allows pool_size 10 + max_overflow 10 connections; match it.
        pool = await asyncpg.create_pool(url, min_size=1, max_size=20)
        yield
        await pool.close()

    async def slots(request: Request) -> JSONResponse:
        """The three reads SchedulingService.slots makes (without BEGIN/ROLLBACK), then available_slots."""
        assert pool is not None
        therapist_id = uuid.UUID(request.path_params["therapist_id"])
        q = request.query_params
        start, end = datetime.fromisoformat(q["start"]), datetime.fromisoformat(q["end"])
        duration, modality = int(q["duration_minutes"]), q.get("modality", "video")
        step = int(q.get("step_minutes", "15"))
        try:
            async with pool.acquire() as conn:
                offered(await conn.fetchrow(sql["profile"], therapist_id), duration, modality)
                hours_row = await conn.fetchrow(sql["office_hours"], therapist_id)
                if hours_row is None:
                    raise Refused(404, "no_office_hours")
                busy = await conn.fetch(sql["busy"], therapist_id, end + DAY_MARGIN, start - DAY_MARGIN)
        except Refused as exc:
            return JSONResponse({"code": exc.code}, status_code=exc.status)
        hours = hours_of(hours_row)
        found = available_slots(
            hours, [(r["start_at"], r["end_at"]) for r in busy], start, end, duration, datetime.now(UTC), step
        )
        return JSONResponse(
            {
                "timezone": hours.timezone,
                "duration_minutes": duration,
                "modality": modality,
                "slots": [{"start": s.start.isoformat(), "end": s.end.isoformat()} for s in found],
            }
        )

    async def book(request: Request) -> JSONResponse:
        """Every statement SchedulingService.book sends for a returning client booking an accepting therapist, in
        the same order and one transaction (without the SAVEPOINT around the INSERT and the `SELECT 1` before
        each enqueue): therapist, profile, office hours, advisory lock, busy time, check_bookable, INSERT, care
        relationship, reminders (cancel pending, both parties, 2 x (INSERT reminder +
        enqueue job)), audit event (chain lock, last event, INSERT)."""
        return await _book(request, full=True)

    async def book_core(request: Request) -> JSONResponse:
        """Only the booking itself: therapist, profile, office hours, advisory lock, busy time, check_bookable,
        INSERT. No care relationship, reminders, jobs or audit event."""
        return await _book(request, full=False)

    async def _book(request: Request, *, full: bool) -> JSONResponse:
        assert pool is not None
        client_id = uuid.UUID(request.headers["x-user-id"])
        body = json.loads(await request.body())
        therapist_id = uuid.UUID(body["therapist_id"])
        start = datetime.fromisoformat(body["start"])
        duration, modality = int(body["duration_minutes"]), body["modality"]
        now = datetime.now(UTC)
        appointment_id = uuid.uuid4()
        try:
            async with pool.acquire() as conn, conn.transaction():
                therapist = await conn.fetchrow(sql["user"], therapist_id)
                if therapist is None or therapist["role"] != "therapist" or therapist["practice_id"] is None:
                    raise Refused(404, "not_found")
                practice_id = therapist["practice_id"]
                offered(await conn.fetchrow(sql["profile"], therapist_id), duration, modality)
                hours_row = await conn.fetchrow(sql["office_hours"], therapist_id)
                if hours_row is None:
                    raise Refused(422, "outside_office_hours")
                policy = await conn.fetchrow(sql["current_policy"], therapist_id, 1)
                policy_version = policy["version"] if policy else None
                await conn.fetchval(sql["lock"], zlib.crc32(b"appointments:" + therapist_id.bytes))
                busy = await conn.fetch(sql["blocking"], therapist_id, start + DAY_MARGIN, start - DAY_MARGIN)
                try:
                    check_bookable(
                        hours_of(hours_row), [(r["start_at"], r["end_at"]) for r in busy], start, duration, now
                    )
                except ValidationFailed as exc:
                    raise Refused(422, exc.code) from None
                end = start + timedelta(minutes=duration)
                try:
                    await conn.execute(
                        sql["insert_appointment"],
                        appointment_id,
                        therapist_id,
                        client_id,
                        practice_id,
                        start,
                        end,
                        duration,
                        modality,
                        "booked",
                        None,
                        None,
                        None,
                        None,
                        None,
                        policy_version,
                        now,
                        1,
                    )
                except asyncpg.ExclusionViolationError:
                    raise Refused(409, "slot_taken") from None
                if full:
                    # A returning client's care already exists: Hearth opens the pair's conversation only when care
                    # starts (the run books every pair once through Hearth before measuring).
                    await conn.fetchrow(sql["ensure_care"], uuid.uuid4(), client_id, therapist_id, practice_id, now)
                    # A new appointment has no pending reminders to cancel; the therapist was read above.
                    rows: list[tuple[uuid.UUID, uuid.UUID, str, datetime]] = []
                    for recipient_id in (client_id, therapist_id):
                        recipient = therapist if recipient_id == therapist_id else None
                        if recipient is None:
                            recipient = await conn.fetchrow(sql["user"], recipient_id)
                        channels = ["email"] + (["sms"] if recipient["phone"] else [])
                        due_times = reminder_due_times(
                            start, booked_at=now, timezone=recipient["timezone"], offsets=DEFAULT_REMINDER_OFFSETS
                        )
                        rows.extend(
                            (uuid.uuid4(), recipient_id, channel, due) for due in due_times for channel in channels
                        )
                    if rows:
                        if len(rows) not in reminder_inserts:
                            reminder_inserts[len(rows)] = reminders_insert_sql(len(rows))
                        await conn.execute(
                            reminder_inserts[len(rows)],
                            *(
                                value
                                for rid, recipient_id, channel, due in rows
                                for value in (rid, appointment_id, recipient_id, channel, due, "pending")
                            ),
                        )
                    jobs = [(SEND_REMINDER_JOB, {"reminder_id": str(rid)}, due) for rid, _, _, due in rows]
                    if modality == "phone":
                        call = {"appointment_id": str(appointment_id), "start": start.isoformat()}
                        jobs.append((PHONE_SESSION_CALL_JOB, call, start))
                    jobs.append((NO_SHOW_JOB, {"appointment_id": str(appointment_id)}, start + NO_SHOW_AFTER))
                    if jobs:
                        await conn.fetch(
                            enqueue,
                            [0] * len(jobs),
                            [name for name, _, _ in jobs],
                            [encode_payload(payload) for _, payload, _ in jobs],
                            [max(due - now, timedelta(0)) for _, _, due in jobs],
                            [None] * len(jobs),
                            [json.dumps({DUE_AT_HEADER: due.isoformat()}) for _, _, due in jobs],
                        )
                    event = AuditEvent(
                        action="appointment.create",
                        object_type="appointment",
                        object_id=str(appointment_id),
                        actor_id=client_id,
                        actor_role="client",
                        practice_id=None,
                        outcome=Outcome.SUCCESS,
                        occurred_at=now,
                        request_id=uuid.uuid4().hex,
                    )
                    await conn.fetchval("SELECT hearth_audit_append($1, $2)", AUDIT_CHAIN_LOCK, [canonical(event)])
        except Refused as exc:
            return JSONResponse({"code": exc.code}, status_code=exc.status)
        return JSONResponse(
            {
                "id": str(appointment_id),
                "therapist_id": str(therapist_id),
                "client_id": str(client_id),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "duration_minutes": duration,
                "modality": modality,
                "status": "booked",
            },
            status_code=201,
        )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/slots/{therapist_id}", slots),
            Route("/appointments", book, methods=["POST"]),
            Route("/appointments-core", book_core, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )
    # The same settings `hearth serve` passes to uvicorn.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, proxy_headers=True)


# --- tokens and request files ----------------------------------------------------------------------------------


def write_signing_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)


class Tokens:
    """Access tokens for the seeded booking clients, signed with the key Hearth was started with (what
    `POST /api/v1/auth/token` would hand out, without an argon2 verification per client)."""

    def __init__(self, key_file: Path) -> None:
        from domain.shared.ports import SystemClock
        from infra.crypto.tokens import JwtAccessTokens, JwtConfig, load_private_key
        from infra.settings import Settings

        settings = Settings()
        self._tokens = JwtAccessTokens(
            load_private_key(key_file),
            JwtConfig(settings.jwt_issuer, settings.jwt_audience, timedelta(minutes=settings.access_token_minutes)),
            SystemClock(),
        )

    def bookers(self) -> list[str]:
        """A fresh token (they live 10 minutes) for each booking client; booker i books therapist i."""
        from domain.identity.model import User
        from domain.shared.principal import Role

        now = datetime.now(UTC)
        return [
            self._tokens.issue(
                User(
                    user_id("booker", i),
                    f"booker-{i}@bench.hearth.test",
                    "",
                    Role.CLIENT,
                    f"Booker {i}",
                    "UTC",
                    None,
                    now,
                ),
                None,
                uuid.uuid4(),
            ).token
            for i in range(THERAPISTS)
        ]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SlotSearchSpec:
    therapist: int
    start: datetime
    duration: int
    modality: str

    def query(self) -> str:
        end = self.start + SLOT_WINDOW
        return (
            f"start={rfc3339(self.start)}&end={rfc3339(end)}&duration_minutes={self.duration}&modality={self.modality}"
        )


def slot_searches(rng: random.Random, n: int) -> list[SlotSearchSpec]:
    """Random therapists, 7-day windows starting at a UTC midnight 1 to 45 days ahead."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        SlotSearchSpec(
            rng.randrange(THERAPISTS),
            today + timedelta(days=rng.randint(1, 45)),
            rng.choice(SESSION_LENGTHS),
            rng.choice(MODALITIES),
        )
        for _ in range(n)
    ]


@dataclass(frozen=True)
class BookingSpec:
    therapist: int
    start: datetime
    duration: int
    modality: str

    def body(self) -> str:
        return json.dumps(
            {
                "therapist_id": str(user_id("therapist", self.therapist)),
                "start": rfc3339(self.start),
                "duration_minutes": self.duration,
                "modality": self.modality,
            },
            separators=(",", ":"),
        )


def write_requests(path: Path, lines: list[tuple[str, str, str, str, str]]) -> Path:
    with path.open("w") as f:
        for fields in lines:
            f.write("\t".join(fields) + "\n")
    return path


class Bookings:
    """Free hours handed out once each across all runs (booker i books therapist i, so no client overlaps
    either): every booking should be a 201; a 409 means a run used up its share and wrapped round."""

    def __init__(self, free: list[tuple[int, datetime]], rng: random.Random) -> None:
        rng.shuffle(free)
        self._specs = [BookingSpec(i, start, rng.choice(SESSION_LENGTHS), rng.choice(MODALITIES)) for i, start in free]
        self._next = 0

    def take(self, n: int) -> list[BookingSpec]:
        specs = self._specs[self._next : self._next + n]
        if not specs:
            raise SystemExit("no free hours left to book; run shorter or fewer measurements")
        self._next += len(specs)
        return specs

    def one_per_therapist(self) -> list[BookingSpec]:
        """The next free hour of every therapist, taken out of the pool."""
        chosen: dict[int, int] = {}
        for k in range(self._next, len(self._specs)):
            chosen.setdefault(self._specs[k].therapist, k)
            if len(chosen) == THERAPISTS:
                break
        taken = set(chosen.values())
        specs = [self._specs[k] for k in sorted(taken)]
        self._specs = self._specs[: self._next] + [
            x for k, x in enumerate(self._specs) if k >= self._next and k not in taken
        ]
        return specs

    def give_back_unused(self, taken: int, consumed: int) -> None:
        """A run took `taken` specs and sent `consumed` of them: the rest are still free."""
        if consumed < taken:
            self._next -= taken - consumed

    @property
    def left(self) -> int:
        return len(self._specs) - self._next


# --- the driver --------------------------------------------------------------------------------------------------


@dataclass
class Servers:
    hearth: str
    bare: str
    tokens: Tokens
    work: Path
    hearth_pid: int
    bare_pid: int
    url: str  # the benchmark database, for CpuMeter


def hearth_get_slots(s: Servers, spec: SlotSearchSpec, token: str) -> httpx.Response:
    tid = user_id("therapist", spec.therapist)
    return httpx.get(
        f"{s.hearth}/api/v1/therapists/{tid}/slots?{spec.query()}", headers={"Authorization": f"Bearer {token}"}
    )


def bare_get_slots(s: Servers, spec: SlotSearchSpec) -> httpx.Response:
    return httpx.get(f"{s.bare}/slots/{user_id('therapist', spec.therapist)}?{spec.query()}")


def hearth_book(s: Servers, spec: BookingSpec, tokens: list[str]) -> httpx.Response:
    return httpx.post(
        f"{s.hearth}/api/v1/appointments",
        content=spec.body(),
        headers={"Authorization": f"Bearer {tokens[spec.therapist]}", "Content-Type": "application/json"},
        timeout=30,
    )


def bare_book(s: Servers, spec: BookingSpec, route: str = "/appointments") -> httpx.Response:
    return httpx.post(
        f"{s.bare}{route}",
        content=spec.body(),
        headers={"X-User-Id": str(user_id("booker", spec.therapist)), "Content-Type": "application/json"},
        timeout=30,
    )


def check_same_answers(s: Servers, searches: list[SlotSearchSpec], bookings: Bookings) -> None:
    """Both apps find the same slots, and each refuses (409) an hour the other has just booked (201)."""
    tokens = s.tokens.bookers()
    for spec in searches[:5]:
        a, b = hearth_get_slots(s, spec, tokens[0]), bare_get_slots(s, spec)
        if a.status_code != 200 or b.status_code != 200:
            raise SystemExit(f"slot search failed:\n{a.status_code} {a.text[:500]}\n{b.status_code} {b.text[:500]}")
        starts_a = [datetime.fromisoformat(x["start"]) for x in a.json()["slots"]]
        starts_b = [datetime.fromisoformat(x["start"]) for x in b.json()["slots"]]
        if starts_a != starts_b or not starts_a:
            raise SystemExit(f"the two apps found different slots for {spec}: {len(starts_a)} vs {len(starts_b)}")
    first, second = bookings.take(2)
    pairs = [
        (hearth_book(s, first, tokens), bare_book(s, first)),
        (bare_book(s, second), hearth_book(s, second, tokens)),
    ]
    for booked, refused in pairs:
        if booked.status_code != 201 or refused.status_code != 409:
            raise SystemExit(
                f"booking one hour twice: {booked.status_code} {booked.text[:300]} / "
                f"{refused.status_code} {refused.text[:300]}"
            )


def login_check(base: str) -> None:
    """One seeded client logs in through the API (argon2 and all) and reads /me: the seeded accounts are real."""
    r = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": "booker-0@bench.hearth.test", "password": PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=30)
    if me.status_code != 200 or me.json()["id"] != str(user_id("booker", 0)):
        raise SystemExit(f"login check failed: {me.status_code} {me.text[:300]}")


def prime(s: Servers, bookings: Bookings, concurrency: int = 4) -> tuple[int, float]:
    """Every booking client books their therapist once through Hearth: the measured bookings are then a returning
    client's (a first booking also opens the pair's conversation with an encrypted welcome message)."""
    specs = bookings.one_per_therapist()
    tokens = s.tokens.bookers()

    async def run() -> int:
        queue = list(specs)
        created = 0
        async with httpx.AsyncClient(base_url=s.hearth, timeout=60) as client:

            async def worker() -> None:
                nonlocal created
                while queue:
                    spec = queue.pop()
                    r = await client.post(
                        "/api/v1/appointments",
                        content=spec.body(),
                        headers={
                            "Authorization": f"Bearer {tokens[spec.therapist]}",
                            "Content-Type": "application/json",
                        },
                    )
                    if r.status_code not in (201, 409):
                        raise SystemExit(f"priming booking failed: {r.status_code} {r.text[:300]}")
                    created += r.status_code == 201

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return created

    started = time.monotonic()
    created = asyncio.run(run())
    return created, time.monotonic() - started


def metered(s: Servers, pid: int, run: Any) -> Result:
    """Run wrk (`run()`), noting the CPU the server process and PostgreSQL spent per response."""
    with CpuMeter(pid, s.url) as cpu:
        result: Result = run()
    result.server_cpu_ms = 1000 * cpu.server / max(result.requests, 1)
    result.db_cpu_ms = 1000 * cpu.database / max(result.requests, 1)
    return result


def slot_run(s: Servers, side: str, searches: list[SlotSearchSpec], connections: int, seconds: int) -> Result:
    if side == "hearth":
        token = s.tokens.bookers()[0]
        lines = [
            (
                "GET",
                f"/api/v1/therapists/{user_id('therapist', x.therapist)}/slots?{x.query()}",
                "Authorization",
                f"Bearer {token}",
                "",
            )
            for x in searches
        ]
        url, name, pid = s.hearth, "hearth GET …/slots", s.hearth_pid
    else:
        lines = [("GET", f"/slots/{user_id('therapist', x.therapist)}?{x.query()}", "", "", "") for x in searches]
        url, name, pid = s.bare, "bare GET /slots", s.bare_pid
    path = write_requests(s.work / f"slots-{side}.tsv", lines)
    return metered(
        s,
        pid,
        lambda: wrk(
            name,
            url,
            {},
            connections,
            seconds,
            script=HERE / "wrk_replay.lua",
            script_args=[str(path)],
            allowed_statuses=frozenset({200}),
        ),
    )


def booking_run(s: Servers, side: str, bookings: Bookings, connections: int, seconds: int, per_second: int) -> Result:
    specs = bookings.take(per_second * seconds)
    if side == "hearth":
        tokens = s.tokens.bookers()
        lines = [
            ("POST", "/api/v1/appointments", "Authorization", f"Bearer {tokens[x.therapist]}", x.body()) for x in specs
        ]
        url, name, pid = s.hearth, "hearth POST …/appointments", s.hearth_pid
    else:
        route = "/appointments" if side == "bare" else "/appointments-core"
        lines = [("POST", route, "X-User-Id", str(user_id("booker", x.therapist)), x.body()) for x in specs]
        url, pid = s.bare, s.bare_pid
        name = "bare POST (same SQL)" if side == "bare" else "bare POST (booking core)"
    path = write_requests(s.work / f"bookings-{side}.tsv", lines)
    result = metered(
        s,
        pid,
        lambda: wrk(
            name,
            url,
            {},
            connections,
            seconds,
            script=HERE / "wrk_replay.lua",
            script_args=[str(path)],
            allowed_statuses=frozenset({201, 409}),
        ),
    )
    bookings.give_back_unused(len(specs), result.consumed)
    return result


def py_spy(s: Servers, py_spy_bin: str, out: Path, label: str, seconds: int, load: Any) -> None:
    """Record Hearth under `load` (a callable running wrk for `seconds`) with py-spy: a flame graph and the raw
    collapsed stacks (`py-spy record --nonblocking`: Python frames only; C and Cython time shows under the Python
    function that called it)."""
    out.mkdir(parents=True, exist_ok=True)
    recorders = [
        subprocess.Popen(
            [
                py_spy_bin,
                "record",
                "--pid",
                str(s.hearth_pid),
                "--duration",
                str(seconds),
                "--rate",
                "200",
                "--format",
                fmt,
                "--output",
                str(out / f"{label}.{ext}"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fmt, ext in (("flamegraph", "svg"), ("raw", "txt"))
    ]
    time.sleep(1)
    try:
        load()
    finally:
        for r in recorders:
            r.wait(timeout=seconds + 60)


@dataclass
class Trace:
    round_trips: int
    statements: list[str]


def trace(url: str, work: Path, key_file: Path, searches: list[SlotSearchSpec], bookings: Bookings) -> dict[str, Trace]:
    """Fresh Hearth and bare servers whose PostgreSQL connections go through a counting proxy: what one request of
    each kind sends (the third of three, so prepared statements are cached)."""
    db = make_url(url)
    proxy = PgTrace(db.host or "127.0.0.1", db.port or 5432)
    proxied = proxy.url(url)
    hearth_port, bare_port = free_port(), free_port()
    env = hearth_env(
        proxied, str(work / "data"), HEARTH_JWT_PRIVATE_KEY_FILE=str(key_file), HEARTH_JOBS_IN_PROCESS="false"
    )
    hearth, bare = f"http://127.0.0.1:{hearth_port}", f"http://127.0.0.1:{bare_port}"
    with (
        running(hearth_command(hearth_port), env, f"{hearth}/healthz") as h,
        running([sys.executable, __file__, "bare", str(bare_port), proxied], {}, f"{bare}/healthz") as b,
    ):
        s = Servers(hearth, bare, Tokens(key_file), work, h.pid, b.pid, url)
        tokens = s.tokens.bookers()
        sends: dict[str, Any] = {
            "hearth slots": lambda i: hearth_get_slots(s, searches[i], tokens[0]),
            "bare slots": lambda i: bare_get_slots(s, searches[i]),
            "hearth booking": lambda i: hearth_book(s, bookings.take(1)[0], tokens),
            "bare booking": lambda i: bare_book(s, bookings.take(1)[0]),
            "bare booking core": lambda i: bare_book(s, bookings.take(1)[0], "/appointments-core"),
        }
        traces: dict[str, Trace] = {}
        for label, send in sends.items():
            for i in range(3):
                time.sleep(0.3)  # let the previous request's connection release (asyncpg's pool resets it) pass
                proxy.reset()
                response = send(i)
                time.sleep(0.3)
                if response.status_code not in (200, 201):
                    raise SystemExit(f"trace: {label} answered {response.status_code} {response.text[:300]}")
            traces[label] = Trace(proxy.round_trips(), proxy.statements())
    return traces


def measure(url: str, work: Path, args: argparse.Namespace) -> tuple[list[Result], list[Result], dict[str, Trace]]:
    rng = random.Random(args.seed)
    key_file = work / "jwt-ed25519.pem"
    write_signing_key(key_file)
    hearth_port, bare_port = free_port(), free_port()
    env = hearth_env(url, str(work / "data"), HEARTH_JWT_PRIVATE_KEY_FILE=str(key_file), HEARTH_JOBS_IN_PROCESS="false")
    hearth, bare = f"http://127.0.0.1:{hearth_port}", f"http://127.0.0.1:{bare_port}"
    searches = slot_searches(rng, 20_000)
    bookings = Bookings(asyncio.run(free_hours(url)), rng)
    connections = [int(c) for c in args.connections.split(",")]
    with (
        running(hearth_command(hearth_port), env, f"{hearth}/healthz") as hearth_process,
        running([sys.executable, __file__, "bare", str(bare_port), url], {}, f"{bare}/healthz") as bare_process,
    ):
        s = Servers(hearth, bare, Tokens(key_file), work, hearth_process.pid, bare_process.pid, url)
        login_check(hearth)
        check_same_answers(s, searches, bookings)
        created, seconds = prime(s, bookings)
        print(
            f"checks passed; primed: {created} first bookings through Hearth in {seconds:.0f} s "
            f"({created / seconds:.0f}/s at 4 concurrent); {bookings.left} free hours left",
            flush=True,
        )

        slot_results: list[Result] = []
        for side in ("hearth", "bare"):
            slot_run(s, side, searches, 4, args.warmup)
        for c in connections:
            for side in ("hearth", "bare"):
                slot_results.append(slot_run(s, side, searches, c, args.duration))
                print(f"  {slot_results[-1].name} c={c}: {slot_results[-1].requests_per_s:.0f} req/s", flush=True)

        booking_results: list[Result] = []
        per_second = args.max_bookings_per_second
        for side in ("hearth", "bare"):
            booking_run(s, side, bookings, 4, args.warmup, per_second)
        for c in connections:
            for side in ("hearth", "bare", "core") if c == 4 else ("hearth", "bare"):
                booking_results.append(booking_run(s, side, bookings, c, args.duration, per_second))
                print(f"  {booking_results[-1].name} c={c}: {booking_results[-1].requests_per_s:.0f} req/s", flush=True)

        if args.py_spy:
            out = Path(args.profile_dir)
            py_spy(
                s, args.py_spy, out, "slots", args.duration, lambda: slot_run(s, "hearth", searches, 4, args.duration)
            )
            py_spy(
                s,
                args.py_spy,
                out,
                "booking",
                args.duration,
                lambda: booking_run(s, "hearth", bookings, 4, args.duration, per_second),
            )
            print(f"py-spy profiles of Hearth at 4 connections in {out}", flush=True)
    traces = trace(url, work, key_file, searches, bookings)
    return slot_results, booking_results, traces


def report(title: str, results: list[Result], pair: tuple[str, str], trips: dict[str, int], bookings: bool) -> bool:
    """Print one table; True when Hearth meets the target against `pair[1]` at 4 connections."""
    print(f"\n{title}")
    header = f"  {'server':<28}{'conns':>6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'app cpu':>9}{'db cpu':>8}{'RT':>4}"
    print(header + (f"{'201':>7}{'409':>5}" if bookings else ""))
    for r in results:
        line = (
            f"  {r.name:<28}{r.connections:>6}{r.requests_per_s:>8.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.server_cpu_ms:>9.2f}{r.db_cpu_ms:>8.2f}{trips.get(r.name, 0):>4}"
        )
        if bookings:
            line += f"{r.statuses.get(201, 0):>7}{r.statuses.get(409, 0):>5}"
        print(line + ("   (wrapped round its request file)" if r.wrapped else ""))
    met = True
    for conns in sorted({r.connections for r in results}):
        hearth = next(r for r in results if r.connections == conns and r.name.startswith(pair[0]))
        for bare in [r for r in results if r.connections == conns and r.name.startswith("bare")]:
            throughput, p99 = hearth.requests_per_s / bare.requests_per_s, hearth.p99_ms / bare.p99_ms
            verdict = ""
            if conns == 4 and bare.name.startswith(pair[1]):
                ok = throughput >= TARGET_THROUGHPUT and p99 <= TARGET_P99
                met &= ok
                verdict = f"   target >= {TARGET_THROUGHPUT}x, <= {TARGET_P99:.0f}x: {'met' if ok else 'MISSED'}"
            print(
                f"  hearth / {bare.name:<26}{conns:>3} conns: throughput {throughput:.2f}x, "
                f"p50 {hearth.p50_ms / bare.p50_ms:.2f}x, p99 {p99:.2f}x{verdict}"
            )
    return met


_CASTS = re.compile(r"::(UUID|INTEGER|BIGINT|VARCHAR|TIMESTAMP WITH TIME ZONE|BOOLEAN|JSONB|TEXT)\b")


def _short(statement: str) -> str:
    text = _CASTS.sub("", statement)
    if text.lstrip().startswith("WITH input AS MATERIALIZED"):
        return "pgqueuer enqueue (WITH input ... INSERT INTO jobs.pgqueuer ...)"
    return text if len(text) <= 90 else text[:87] + "..."


def report_statements(traces: dict[str, Trace]) -> None:
    """What Hearth sends beyond the bare app, per request kind."""
    from collections import Counter

    print("\nSQL round trips per request (one traced request each) and what Hearth sends beyond the bare app:")
    for kind, bare_label in (("slots", "bare slots"), ("booking", "bare booking")):
        hearth, bare = traces[f"hearth {kind}"], traces[bare_label]
        print(f"  {kind}: hearth {hearth.round_trips}, bare {bare.round_trips}")
        extra = Counter(_short(x) for x in hearth.statements) - Counter(_short(x) for x in bare.statements)
        missing = Counter(_short(x) for x in bare.statements) - Counter(_short(x) for x in hearth.statements)
        for text, n in extra.items():
            print(f"    + {n} x {text}")
        for text, n in missing.items():
            print(f"    - {n} x {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=12, help="seconds per measurement (default 12)")
    parser.add_argument("--connections", default="4,16", help="comma-separated concurrency levels (default 4,16)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--seed", type=int, default=3, help="random seed for the requests (default 3)")
    parser.add_argument(
        "--max-bookings-per-second",
        type=int,
        default=1500,
        help="free hours set aside per second of a booking run (default 1500); a faster run wraps round",
    )
    parser.add_argument("--py-spy", metavar="PATH", help="py-spy binary: also profile Hearth under each load")
    parser.add_argument(
        "--profile-dir",
        default=str(Path(tempfile.gettempdir()) / "hearth-bench-profiles"),
        help="where py-spy writes its flame graphs and raw stacks (default: hearth-bench-profiles in the temp dir)",
    )
    args = parser.parse_args()
    if "4" not in args.connections.split(","):
        raise SystemExit("the target is at 4 connections: include 4 in --connections")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`")

    admin = admin_url()
    url = database_url(admin, BENCH_DB)
    recreate_database(admin, BENCH_DB)
    load_before = load_average()
    try:
        migrate(url)
        started = time.monotonic()
        asyncio.run(seed(url))
        print(
            f"seeded {THERAPISTS} therapists and {THERAPISTS * APPOINTMENTS_PER_THERAPIST} appointments "
            f"in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="hearth-bench-sched-") as work:
            slot_results, booking_results, traces = measure(url, Path(work), args)
    finally:
        drop_database(admin, BENCH_DB)

    print(
        f"\n{os.cpu_count()} CPUs; load average (1/5/15 min) {load_before} at the start, {load_average()} at the end."
        "\napp cpu / db cpu: CPU ms per response of the server process / of all PostgreSQL backends of the"
        " benchmark database; RT: PostgreSQL round trips per request."
    )
    trips = {
        "hearth GET …/slots": traces["hearth slots"].round_trips,
        "bare GET /slots": traces["bare slots"].round_trips,
        "hearth POST …/appointments": traces["hearth booking"].round_trips,
        "bare POST (same SQL)": traces["bare booking"].round_trips,
        "bare POST (booking core)": traces["bare booking core"].round_trips,
    }
    met = report(
        "Slot search: GET 7 days of slots of a random therapist",
        slot_results,
        ("hearth", "bare"),
        trips,
        bookings=False,
    )
    met &= report(
        "Booking: POST a free hour of a random therapist (a returning client)",
        booking_results,
        ("hearth", "bare POST (same SQL)"),
        trips,
        bookings=True,
    )
    report_statements(traces)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["bare"]:
        serve_bare(int(sys.argv[2]), sys.argv[3])
    else:
        main()
