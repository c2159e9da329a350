"""away since: when the therapist's away status was switched on

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 10:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# An away therapist's off-period began when away was switched on. It was read from `updated_at`, which saving the
# welcome template (or switching away on again) also moves: the client then got a second automatic reply in the
# same off-period. `away_since` is set only when away is switched on, and is NULL while the therapist is not away.


def upgrade() -> None:
    op.add_column("messaging_settings", sa.Column("away_since", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE messaging_settings SET away_since = updated_at WHERE away")
    op.drop_column("messaging_settings", "away")


def downgrade() -> None:
    op.add_column("messaging_settings", sa.Column("away", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE messaging_settings SET away = away_since IS NOT NULL")
    op.alter_column("messaging_settings", "away", server_default=None)
    op.drop_column("messaging_settings", "away_since")
