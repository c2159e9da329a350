"""a reminder that comes due after its session began is expired

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 14:30:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# A session stays booked past its start until the no-show check runs; a reminder whose job ran that late (a
# retried send, a worker that was down) is no longer sent, and says so instead of posing as a delivery failure.


def upgrade() -> None:
    op.drop_constraint(op.f("ck_reminders_status"), "reminders", type_="check")
    op.create_check_constraint(
        op.f("ck_reminders_status"), "reminders", "status IN ('pending', 'sent', 'cancelled', 'failed', 'expired')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE reminders SET status = 'failed', last_error = 'session already started' WHERE status = 'expired'"
    )
    op.drop_constraint(op.f("ck_reminders_status"), "reminders", type_="check")
    op.create_check_constraint(
        op.f("ck_reminders_status"), "reminders", "status IN ('pending', 'sent', 'cancelled', 'failed')"
    )
