"""audit chain tail in one round trip

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-28 05:20:00
"""

from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

# Every audited write took the chain's advisory lock and then read the chain's end: two round trips, the lock held
# across both. A volatile PL/pgSQL function does both in one; in READ COMMITTED each statement inside it takes a
# new snapshot, so the read sees every event committed before the lock was granted (one statement with the lock
# in a subquery would read with a snapshot older than the lock and could link to a stale end).


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION hearth_audit_tail(lock_key bigint) RETURNS TABLE (seq bigint, hash text)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            RETURN QUERY SELECT a.seq, a.hash::text FROM audit_events AS a ORDER BY a.seq DESC LIMIT 1;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION hearth_audit_tail(bigint)")
