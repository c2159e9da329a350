"""Append-only audit log with a hash chain, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.audit.events import AuditEvent, ChainedEvent, Outcome, canonical
from infra.db import fast
from infra.db.tables import audit_events

# One lock id for the whole chain: appends are serialised so each row links to the true
# previous row even when transactions commit out of order.
AUDIT_CHAIN_LOCK = 0x48454152  # "HEAR"

_APPEND = "SELECT hearth_audit_append($1, $2)"


def append_args(events: Sequence[AuditEvent]) -> tuple[int, list[str]]:
    """What `hearth_audit_append` (migration 0013) takes for `events`: the chain lock and their canonical JSON.
    Also for statements that append from inside another write (a batch of messages)."""
    return AUDIT_CHAIN_LOCK, [canonical(e) for e in events]


class SqlAuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: AuditEvent) -> None:
        await self.append_many([event])

    async def append_many(self, events: Sequence[AuditEvent]) -> None:
        # Every change appends here, so it is one round trip (hearth_audit_append, migration 0013): the chain lock,
        # the read of the chain's end and the INSERT of all of `events`, linked in order by the database with the
        # same hash as `chain_hash`. The lock is held from then until this transaction's COMMIT.
        if not events:
            return
        connection = await fast.driver(self._session)
        await connection.fetchval(_APPEND, *append_args(events))


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
