"""billing: a card kept for fees is recorded from the webhook when the payment needed 3-D Secure

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# billing_payments.keep_card: the client asked, for this payment, to keep the card for late-cancellation and
# no-show fees (payments logged before this revision did not say: false, as for a payment that never kept one).
# billing_payment_profiles.card_kept_at: when the payment that kept the recorded card succeeded, so a late webhook
# for an older card does not replace a newer one (null for cards recorded before this revision: any later one
# replaces them).


def upgrade() -> None:
    op.add_column("billing_payments", sa.Column("keep_card", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("billing_payment_profiles", sa.Column("card_kept_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("billing_payment_profiles", "card_kept_at")
    op.drop_column("billing_payments", "keep_card")
