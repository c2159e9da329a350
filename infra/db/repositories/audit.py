"""Append-only audit log with a hash chain, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.audit.events import GENESIS_HASH, AuditEvent, ChainedEvent, Outcome, chain_hash
from infra.db import fast
from infra.db.tables import audit_events

# One lock id for the whole chain: appends are serialised so each row links to the true
# previous row even when transactions commit out of order.
AUDIT_CHAIN_LOCK = 0x48454152  # "HEAR"

# Takes the chain lock and reads the chain's end in one round trip (migration 0013 says why it is a function).
_LOCKED_TAIL = "SELECT seq, hash FROM hearth_audit_tail($1)"
_INSERT_EVENT = fast.FastStatement(audit_events.insert().values({c.name: sa.bindparam(c.name) for c in audit_events.c}))


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: AuditEvent) -> None:
        await self.append_many([event])

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        # Every change appends here: the statements go straight through asyncpg (infra/db/fast.py), which also
        # shortens how long the chain lock is held; several events (a batch of messages) share one lock
        # acquisition, one read of the chain's end and one pipelined INSERT.
        if not events:
            return
        connection = await fast.driver(self._session)
        last = await connection.fetchrow(_LOCKED_TAIL, AUDIT_CHAIN_LOCK)
        seq, prev = (last["seq"], last["hash"]) if last else (0, GENESIS_HASH)
        rows: list[list[Any]] = []
        for event in events:
            seq += 1
            digest = chain_hash(seq, prev, event)
            rows.append(
                _INSERT_EVENT.args(
                    {
                        "seq": seq,
                        "occurred_at": event.occurred_at,
                        "action": event.action,
                        "object_type": event.object_type,
                        "object_id": event.object_id,
                        "actor_id": event.actor_id,
                        "actor_role": event.actor_role,
                        "practice_id": event.practice_id,
                        "outcome": str(event.outcome),
                        "request_id": event.request_id,
                        "prev_hash": prev,
                        "hash": digest,
                    }
                )
            )
            prev = digest
        if len(rows) == 1:
            await connection.execute(_INSERT_EVENT.sql, *rows[0])
        else:
            await connection.executemany(_INSERT_EVENT.sql, rows)


async def read_chain(engine: AsyncEngine, batch: int = 1000) -> AsyncIterator[ChainedEvent]:
    after = 0
    async with engine.connect() as conn:
        while True:
            rows = (
                await conn.execute(
                    sa.select(audit_events).where(audit_events.c.seq > after).order_by(audit_events.c.seq).limit(batch)
                )
            ).all()
            if not rows:
                return
            for row in rows:
                yield ChainedEvent(
                    seq=row.seq,
                    prev_hash=row.prev_hash,
                    hash=row.hash,
                    event=AuditEvent(
                        action=row.action,
                        object_type=row.object_type,
                        object_id=row.object_id,
                        actor_id=row.actor_id,
                        actor_role=row.actor_role,
                        practice_id=row.practice_id,
                        outcome=Outcome(row.outcome),
                        occurred_at=row.occurred_at,
                        request_id=row.request_id,
                    ),
                )
            after = rows[-1].seq
