"""Wrapped data keys in PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.shared.cipher import WrappedDataKey
from infra.db.tables import data_keys


class SqlDataKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, key_id: uuid.UUID, key: WrappedDataKey, now: datetime) -> None:
        await self._s.execute(
            data_keys.insert().values(
                id=key_id, kek_id=key.kek_id, wrapped=key.wrapped, version=key.version, created_at=now
            )
        )

    async def get(self, key_id: uuid.UUID) -> WrappedDataKey | None:
        row = (await self._s.execute(sa.select(data_keys).where(data_keys.c.id == key_id))).first()
        return WrappedDataKey(row.kek_id, row.wrapped, row.version) if row else None

    async def not_under(self, kek_id: str, *, limit: int) -> list[tuple[uuid.UUID, WrappedDataKey]]:
        rows = await self._s.execute(
            sa.select(data_keys)
            .where(data_keys.c.kek_id != kek_id)
            .order_by(data_keys.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(r.id, WrappedDataKey(r.kek_id, r.wrapped, r.version)) for r in rows.all()]

    async def replace(self, key_id: uuid.UUID, key: WrappedDataKey) -> None:
        await self._s.execute(
            data_keys.update()
            .where(data_keys.c.id == key_id)
            .values(kek_id=key.kek_id, wrapped=key.wrapped, version=key.version)
        )
