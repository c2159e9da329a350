"""login sessions: the idle limit runs from the user's last activity, not from the last refresh

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# A tab left open refreshes its token for background polls, and each refresh moved `last_used_at`, so an unattended
# staff session never idled out. `last_active_at` moves only with activity a refresh declares. Existing sessions
# start from their last refresh, the best that is known about them.


def upgrade() -> None:
    op.add_column("login_sessions", sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE login_sessions SET last_active_at = last_used_at")
    op.alter_column("login_sessions", "last_active_at", nullable=False)


def downgrade() -> None:
    op.drop_column("login_sessions", "last_active_at")
