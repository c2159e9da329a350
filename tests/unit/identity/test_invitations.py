"""Invitation rules that need no database: when a link stops working, and what a group practice may be called."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.identity.invitations import practice_name
from domain.identity.model import Invitation, InvitationStatus
from domain.shared.errors import ValidationFailed
from domain.shared.principal import Role

SENT = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def _invitation(**changes) -> Invitation:
    return Invitation(
        id=uuid.uuid4(),
        practice_id=uuid.uuid4(),
        email="sam@example.com",
        role=Role.THERAPIST,
        token_hash="0" * 64,
        invited_by=None,
        created_at=SENT,
        expires_at=SENT + timedelta(days=7),
        **changes,
    )


def test_a_link_works_until_the_moment_it_expires():
    invitation = _invitation()
    assert invitation.status(SENT + timedelta(days=7) - timedelta(microseconds=1)) is InvitationStatus.PENDING
    assert invitation.status(SENT + timedelta(days=7)) is InvitationStatus.EXPIRED


def test_accepted_and_revoked_say_so_even_after_expiry():
    late = SENT + timedelta(days=30)
    accepted = _invitation(accepted_at=SENT, user_id=uuid.uuid4())
    assert accepted.status(late) is InvitationStatus.ACCEPTED
    assert _invitation(revoked_at=SENT).status(late) is InvitationStatus.REVOKED


def test_practice_names_are_tidied_and_bounded():
    assert practice_name("  Riverbend \t Counseling  ") == "Riverbend Counseling"
    persian = "Kh\u0101neh\u200cye Dar\u0101m\u0101n"  # a zero-width non-joiner belongs to the name
    assert practice_name(persian) == persian
    for bad in ("", "   ", "x" * 201, "Bell\x07Name", "Esc\x1bName"):
        with pytest.raises(ValidationFailed):
            practice_name(bad)
