"""Idempotency keys in PostgreSQL. Each call is its own short transaction, outside the business one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.db.tables import idempotency_keys

# A claim older than this whose request never finished (the process died) may be taken over.
STALE_CLAIM = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredRow:
    request_hash: str
    status_code: int | None
    body: Any


class SqlIdempotencyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def _where(self, user_id: uuid.UUID, key: str, operation: str) -> sa.ColumnElement[bool]:
        t = idempotency_keys.c
        return sa.and_(t.user_id == user_id, t.key == key, t.operation == operation)

    async def begin(
        self, user_id: uuid.UUID, key: str, operation: str, request_hash: str, now: datetime
    ) -> StoredRow | None:
        async with self._engine.begin() as conn:
            claimed = (
                await conn.execute(
                    pg_insert(idempotency_keys)
                    .values(user_id=user_id, key=key, operation=operation, request_hash=request_hash, created_at=now)
                    .on_conflict_do_nothing()
                    .returning(idempotency_keys.c.key)
                )
            ).first()
            if claimed is not None:
                return None
            row = (
                await conn.execute(
                    sa.select(idempotency_keys).where(self._where(user_id, key, operation)).with_for_update()
                )
            ).one()
            if row.status_code is None and row.request_hash == request_hash and now - row.created_at > STALE_CLAIM:
                await conn.execute(
                    idempotency_keys.update().where(self._where(user_id, key, operation)).values(created_at=now)
                )
                return None
            return StoredRow(row.request_hash, row.status_code, row.response)

    async def finish(self, user_id: uuid.UUID, key: str, operation: str, status_code: int, body: Any) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                idempotency_keys.update()
                .where(self._where(user_id, key, operation))
                .values(status_code=status_code, response=body)
            )

    async def abandon(self, user_id: uuid.UUID, key: str, operation: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(idempotency_keys.delete().where(self._where(user_id, key, operation)))
