"""Where record groups keep their wrapped data keys, and their rotation under a new key-encryption key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.shared.cipher import PayloadCipher, WrappedDataKey
from domain.shared.errors import NotFound
from domain.shared.ports import Clock, UnitOfWork


class DataKeyRepository(Protocol):
    async def add(self, key_id: uuid.UUID, key: WrappedDataKey, now: datetime) -> None: ...

    async def get(self, key_id: uuid.UUID) -> WrappedDataKey | None: ...

    async def not_under(self, kek_id: str, *, limit: int) -> list[tuple[uuid.UUID, WrappedDataKey]]:
        """Data keys wrapped under any other key-encryption key, locked for this transaction."""

    async def replace(self, key_id: uuid.UUID, key: WrappedDataKey) -> None: ...


class DataKeyUnitOfWork(UnitOfWork, Protocol):
    data_keys: DataKeyRepository


async def new_data_key(
    uow: DataKeyUnitOfWork, cipher: PayloadCipher, ids: Callable[[], uuid.UUID], now: datetime
) -> tuple[uuid.UUID, WrappedDataKey]:
    key_id = ids()
    key = cipher.new_data_key()
    await uow.data_keys.add(key_id, key, now)
    return key_id, key


async def data_key(uow: DataKeyUnitOfWork, key_id: uuid.UUID) -> WrappedDataKey:
    key = await uow.data_keys.get(key_id)
    if key is None:
        raise NotFound("A data key is missing.", code="data_key_missing")
    return key


@dataclass(frozen=True, slots=True)
class RotationReport:
    rewrapped: int
    current_kek_id: str


class KeyRotation:
    """Re-wraps every data key under the newest key-encryption key, in batches; payloads are untouched."""

    def __init__(
        self, uow: Callable[[], DataKeyUnitOfWork], cipher: PayloadCipher, current_kek_id: str, clock: Clock
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._current = current_kek_id
        self._clock = clock

    async def run(self, batch: int = 500) -> RotationReport:
        total = 0
        while True:
            async with self._uow() as uow:
                stale = await uow.data_keys.not_under(self._current, limit=batch)
                for key_id, key in stale:
                    await uow.data_keys.replace(key_id, self._cipher.rewrap(key))
                await uow.commit()
            total += len(stale)
            if len(stale) < batch:
                return RotationReport(total, self._current)
