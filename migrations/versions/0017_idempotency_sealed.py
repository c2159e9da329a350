"""idempotency answers sealed, and kept for a retention period

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Stored answers held invoices' diagnoses and place of service, and payments' client secrets, in plain JSON, and
# were never deleted. New answers go to `sealed_response` under a data key of their own (`data_key_id`); the sweep
# that deletes expired rows (by `created_at`) also seals the plain answers still within the retention period, which
# is why `response` stays for now (the key to seal with lives outside the database, out of a migration's reach).


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("sealed_response", sa.LargeBinary(), nullable=True))
    op.add_column("idempotency_keys", sa.Column("data_key_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_idempotency_keys_data_key_id_data_keys"), "idempotency_keys", "data_keys", ["data_key_id"], ["id"]
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False)


def downgrade() -> None:
    # Sealed answers cannot be given back in plain text: they are forgotten, with their data keys, as on expiry.
    op.execute(
        "WITH gone AS (DELETE FROM idempotency_keys WHERE data_key_id IS NOT NULL RETURNING data_key_id) "
        "DELETE FROM data_keys WHERE id IN (SELECT data_key_id FROM gone)"
    )
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_constraint(op.f("fk_idempotency_keys_data_key_id_data_keys"), "idempotency_keys", type_="foreignkey")
    op.drop_column("idempotency_keys", "data_key_id")
    op.drop_column("idempotency_keys", "sealed_response")
