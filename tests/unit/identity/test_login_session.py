"""The idle limit of a login session runs from the user's last activity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.identity.model import LoginSession

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


def _session() -> LoginSession:
    return LoginSession(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        created_at=START,
        last_used_at=START,
        absolute_expires_at=START + timedelta(hours=12),
        last_active_at=START,
    )


def test_activity_moves_the_deadline_forward_only():
    session = _session()
    session.note_activity(START + timedelta(minutes=20), IDLE)
    session.note_activity(START + timedelta(minutes=5), IDLE)
    assert session.idle_deadline(IDLE) == START + timedelta(minutes=50)


def test_activity_after_the_session_idled_out_is_ignored():
    session = _session()
    session.note_activity(START + timedelta(minutes=30), IDLE)
    assert session.last_active_at == START
    assert not session.is_live(START + timedelta(minutes=31), IDLE)


def test_refreshes_alone_do_not_keep_it_live():
    session = _session()
    session.last_used_at = START + timedelta(minutes=29)
    assert session.is_live(START + timedelta(minutes=29, seconds=59), IDLE)
    assert not session.is_live(START + timedelta(minutes=30), IDLE)
