from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from domain.audit.events import GENESIS_HASH, AuditEvent, ChainedEvent, Outcome, chain_hash, verify_chain


def _chain(n: int) -> list[ChainedEvent]:
    out, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        event = AuditEvent(
            action="note.read",
            object_type="note",
            object_id=str(seq),
            actor_id=uuid.UUID(int=seq),
            actor_role="therapist",
            practice_id=None,
            outcome=Outcome.SUCCESS,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=seq),
        )
        digest = chain_hash(seq, prev, event)
        out.append(ChainedEvent(seq, event, prev, digest))
        prev = digest
    return out


def test_intact_chain():
    report = verify_chain(_chain(5))
    assert report.ok and report.checked == 5


def test_edited_event_is_found():
    chain = _chain(5)
    chain[2] = replace(chain[2], event=replace(chain[2].event, outcome=Outcome.DENIED))
    report = verify_chain(chain)
    assert report.first_broken_seq == 3 and report.checked == 2


def test_recomputed_hash_breaks_the_next_link():
    chain = _chain(5)
    forged = replace(chain[2].event, actor_role="practice_admin")
    chain[2] = replace(chain[2], event=forged, hash=chain_hash(3, chain[2].prev_hash, forged))
    assert verify_chain(chain).first_broken_seq == 4


def test_dropped_event_is_found():
    chain = _chain(5)
    del chain[1]
    report = verify_chain(chain)
    assert report.first_broken_seq == 2 and "missing" in report.reason


def test_hash_does_not_depend_on_the_offset_a_time_is_written_in():
    event = _chain(1)[0].event
    shifted = replace(event, occurred_at=event.occurred_at.astimezone(timezone(timedelta(hours=5))))
    assert chain_hash(1, GENESIS_HASH, event) == chain_hash(1, GENESIS_HASH, shifted)
