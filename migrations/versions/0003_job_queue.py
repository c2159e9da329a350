"""job queue (pgqueuer) in its own schema

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:05:00
"""

from alembic import op

from infra.jobs.schema import install_statements, uninstall_statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One statement per execute: asyncpg refuses multi-statement strings.
    for statement in install_statements():
        op.execute(statement)


def downgrade() -> None:
    for statement in uninstall_statements():
        op.execute(statement)
