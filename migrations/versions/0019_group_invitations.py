"""invitations into group practices; group practice names are unique

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Admins invite staff into a group practice (ADR 16). The token is kept only as its SHA-256; an address has at most
# one open invitation per practice, so a new one replaces (revokes) the earlier. No group practice existed before
# this revision (nothing created one), so the unique name index cannot meet duplicates.


def upgrade() -> None:
    op.create_index(
        "uq_practices_group_name",
        "practices",
        ["name"],
        unique=True,
        postgresql_where=sa.text("kind = 'group'"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("practice_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('therapist', 'practice_admin')", name=op.f("ck_invitations_role")),
        sa.CheckConstraint(
            "(accepted_at IS NULL) = (user_id IS NULL)", name=op.f("ck_invitations_accepted_by_user")
        ),
        sa.CheckConstraint(
            "accepted_at IS NULL OR revoked_at IS NULL", name=op.f("ck_invitations_accepted_or_revoked")
        ),
        sa.ForeignKeyConstraint(["practice_id"], ["practices.id"], name=op.f("fk_invitations_practice_id_practices")),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"], name=op.f("fk_invitations_invited_by_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_invitations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(
        "uq_invitations_open_email",
        "invitations",
        ["practice_id", "email"],
        unique=True,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_invitations_open_email", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("uq_practices_group_name", table_name="practices")
