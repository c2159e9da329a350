"""users: a group practice's admins deactivate staff who leave (ADR 18)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# A deactivated account stays (its practice's records name it) but can no longer sign in. Only staff are
# deactivated; `deactivated_by` is the admin who did it.


def upgrade() -> None:
    op.add_column("users", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("deactivated_by", sa.UUID(), nullable=True))
    op.create_foreign_key(op.f("fk_users_deactivated_by_users"), "users", "users", ["deactivated_by"], ["id"])
    op.create_check_constraint(op.f("ck_users_deactivated_staff"), "users", "deactivated_at IS NULL OR role <> 'client'")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_deactivated_staff"), "users", type_="check")
    op.drop_constraint(op.f("fk_users_deactivated_by_users"), "users", type_="foreignkey")
    op.drop_column("users", "deactivated_by")
    op.drop_column("users", "deactivated_at")
