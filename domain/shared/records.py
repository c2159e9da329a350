"""A client's record in a practice: the record group whose data key seals plans, progress and measures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from domain.shared.cipher import PayloadCipher, WrappedDataKey
from domain.shared.data_keys import DataKeyUnitOfWork, data_key, new_data_key


class ClientRecordRepository(Protocol):
    async def key_id(self, client_id: uuid.UUID, practice_id: uuid.UUID) -> uuid.UUID | None: ...

    async def add(self, client_id: uuid.UUID, practice_id: uuid.UUID, key_id: uuid.UUID, now: datetime) -> uuid.UUID:
        """Record `key_id` as the record's key; returns the record's key id: `key_id`, or the one a concurrent
        first use stored first."""


class RecordUnitOfWork(DataKeyUnitOfWork, Protocol):
    client_records: ClientRecordRepository


async def record_key(
    uow: RecordUnitOfWork,
    cipher: PayloadCipher,
    ids: Callable[[], uuid.UUID],
    client_id: uuid.UUID,
    practice_id: uuid.UUID,
    now: datetime,
) -> WrappedDataKey:
    """The client record's data key, made on first use."""
    key_id = await uow.client_records.key_id(client_id, practice_id)
    if key_id is not None:
        return await data_key(uow, key_id)
    key_id, key = await new_data_key(uow, cipher, ids, now)
    stored = await uow.client_records.add(client_id, practice_id, key_id, now)
    if stored != key_id:
        # Another transaction made the record's key first: seal with that one, or the data would be sealed under
        # a key no record points to, and unreadable. (Ours stays behind as an unused data_keys row.)
        return await data_key(uow, stored)
    return key
