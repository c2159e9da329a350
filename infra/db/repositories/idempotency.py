"""Idempotency keys in PostgreSQL. Each call is its own short transaction, outside the business one.

A stored answer is private data (an invoice's diagnoses and place of service, a payment's client secret): it is
sealed under a data key of its own, bound to its row, and deleted with the row once the retention period is over
(docs/adr/0015-idempotency-answers-sealed-and-expiring.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.shared.cipher import AadContext, PayloadCipher, WrappedDataKey
from infra.db.tables import data_keys, idempotency_keys

# A claim older than this whose request never finished (the process died) may be taken over.
STALE_CLAIM = timedelta(seconds=60)

SWEEP_JOB = "idempotency.sweep"
# Expired rows are deleted at most this long after their retention period ends; until then a replay already
# treats them as gone.
SWEEP_EVERY = timedelta(hours=1)

_t = idempotency_keys.c

# One statement per batch: the expired rows, then the data keys only they used.
_PURGE = sa.text(
    "WITH expired AS ("
    " SELECT user_id, key, operation FROM idempotency_keys WHERE created_at <= :cutoff"
    " ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED),"
    " gone AS ("
    " DELETE FROM idempotency_keys i USING expired e"
    " WHERE (i.user_id, i.key, i.operation) = (e.user_id, e.key, e.operation) RETURNING i.data_key_id),"
    " forgotten AS (DELETE FROM data_keys WHERE id IN (SELECT data_key_id FROM gone))"
    " SELECT count(*) FROM gone"
)


@dataclass(frozen=True, slots=True)
class StoredRow:
    request_hash: str
    status_code: int | None
    body: Any


@dataclass(frozen=True, slots=True)
class SweepReport:
    purged: int
    sealed: int


def _aad(user_id: uuid.UUID, key: str, operation: str, request_hash: str, status_code: int) -> AadContext:
    # The row's whole identity and what the answer answers: a sealed answer copied to another key, operation,
    # request or status does not open.
    return AadContext.of(
        "idempotency_keys",
        user_id,
        "response",
        operation=operation,
        idempotency_key=key,
        request=request_hash,
        status=status_code,
    )


class SqlIdempotencyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        cipher: PayloadCipher,
        retention: timedelta,
        ids: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        if retention <= STALE_CLAIM:
            raise ValueError("the retention period must outlast an unfinished claim")
        self._engine = engine
        self._cipher = cipher
        self._retention = retention
        self._ids = ids

    def _where(self, user_id: uuid.UUID, key: str, operation: str) -> sa.ColumnElement[bool]:
        return sa.and_(_t.user_id == user_id, _t.key == key, _t.operation == operation)

    async def begin(
        self, user_id: uuid.UUID, key: str, operation: str, request_hash: str, now: datetime
    ) -> StoredRow | None:
        async with self._engine.begin() as conn:
            claimed = (
                await conn.execute(
                    pg_insert(idempotency_keys)
                    .values(user_id=user_id, key=key, operation=operation, request_hash=request_hash, created_at=now)
                    .on_conflict_do_nothing()
                    .returning(_t.key)
                )
            ).first()
            if claimed is not None:
                return None
            row = (
                await conn.execute(
                    sa.select(idempotency_keys, data_keys.c.kek_id, data_keys.c.wrapped, data_keys.c.version)
                    .select_from(idempotency_keys.outerjoin(data_keys))
                    .where(self._where(user_id, key, operation))
                    .with_for_update(of=idempotency_keys)
                )
            ).one()
            age = now - row.created_at
            # An expired key may not have been swept yet: it is a new request all the same.
            stale = row.status_code is None and row.request_hash == request_hash and age > STALE_CLAIM
            if age >= self._retention or stale:
                await conn.execute(
                    idempotency_keys.update()
                    .where(self._where(user_id, key, operation))
                    .values(
                        request_hash=request_hash,
                        status_code=None,
                        response=sa.null(),
                        sealed_response=None,
                        data_key_id=None,
                        created_at=now,
                    )
                )
                if row.data_key_id is not None:
                    await conn.execute(data_keys.delete().where(data_keys.c.id == row.data_key_id))
                return None
            if row.status_code is None:
                return StoredRow(row.request_hash, None, None)
            if row.sealed_response is None:
                # Written in plain text before revision 0017; the next sweep seals it.
                return StoredRow(row.request_hash, row.status_code, row.response)
            plain = self._cipher.open(
                row.sealed_response,
                WrappedDataKey(row.kek_id, row.wrapped, row.version),
                _aad(user_id, key, operation, row.request_hash, row.status_code),
            )
            return StoredRow(row.request_hash, row.status_code, json.loads(plain))

    async def finish(
        self,
        user_id: uuid.UUID,
        key: str,
        operation: str,
        request_hash: str,
        status_code: int,
        body: Any,
        now: datetime,
    ) -> None:
        async with self._engine.begin() as conn:
            sealed, key_id = await self._seal(conn, user_id, key, operation, request_hash, status_code, body, now)
            updated = await conn.execute(
                idempotency_keys.update()
                .where(self._where(user_id, key, operation), _t.request_hash == request_hash, _t.status_code.is_(None))
                .values(status_code=status_code, sealed_response=sealed, data_key_id=key_id)
            )
            if updated.rowcount == 0:
                # The claim is gone (expired and swept), or a takeover of a stale claim answered first and that
                # answer stays: this one has nowhere to go, nor has its key.
                await conn.execute(data_keys.delete().where(data_keys.c.id == key_id))

    async def abandon(self, user_id: uuid.UUID, key: str, operation: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(idempotency_keys.delete().where(self._where(user_id, key, operation)))

    async def sweep(self, now: datetime, *, batch: int = 500) -> SweepReport:
        """Delete the rows whose retention period is over, with their data keys; seal the plain answers left from
        before revision 0017. In batches, each its own transaction."""
        purged = sealed = 0
        while True:
            async with self._engine.begin() as conn:
                done = (await conn.execute(_PURGE, {"cutoff": now - self._retention, "batch": batch})).scalar_one()
            purged += done
            if done < batch:
                break
        while True:
            async with self._engine.begin() as conn:
                plain = (
                    await conn.execute(
                        sa.select(_t.user_id, _t.key, _t.operation, _t.request_hash, _t.status_code, _t.response)
                        .where(_t.response.is_not(None), _t.status_code.is_not(None))
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                for row in plain:
                    where = self._where(row.user_id, row.key, row.operation)
                    body, key_id = await self._seal(
                        conn, row.user_id, row.key, row.operation, row.request_hash, row.status_code, row.response, now
                    )
                    await conn.execute(
                        idempotency_keys.update()
                        .where(where)
                        .values(response=sa.null(), sealed_response=body, data_key_id=key_id)
                    )
            sealed += len(plain)
            if len(plain) < batch:
                return SweepReport(purged, sealed)

    async def _seal(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        key: str,
        operation: str,
        request_hash: str,
        status_code: int,
        body: Any,
        now: datetime,
    ) -> tuple[bytes, uuid.UUID]:
        # A data key per answer: forgetting the row forgets its key, and no other record group shares it.
        data_key = self._cipher.new_data_key()
        key_id = self._ids()
        await conn.execute(
            data_keys.insert().values(
                id=key_id, kek_id=data_key.kek_id, wrapped=data_key.wrapped, version=data_key.version, created_at=now
            )
        )
        # Compact JSON in the order the answer was built: a replay renders it back byte for byte.
        plain = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return self._cipher.seal(plain, data_key, _aad(user_id, key, operation, request_hash, status_code)), key_id
