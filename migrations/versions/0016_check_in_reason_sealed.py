"""a session's switch to chat no longer records why in plain text

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 13:40:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# "not_alone" is the client's check-in answer, which is otherwise sealed: the check-in itself (readable by the
# session's two parties) says why the session became chat, so the event keeps only that it did.


def upgrade() -> None:
    op.execute("UPDATE session_events SET detail = NULL WHERE kind = 'modality_changed' AND detail = 'not_alone'")


def downgrade() -> None:
    pass  # the answer is in the sealed check-in; nothing to put back in plain text
