"""audit chain appended in one round trip

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-28 05:20:00
"""

from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

# Every audited write took the chain's advisory lock, read the chain's end and inserted its events: three round
# trips with the lock held across them (and then the COMMIT). This function does all of it in one call. The
# caller passes each event's canonical form (domain/audit/events.py `canonical`); the function links them exactly
# as `chain_hash` does: sha256 of "seq|prev_hash|canonical" in UTF-8, hex. It is volatile PL/pgSQL on purpose: in
# READ COMMITTED each statement inside it takes a new snapshot, so the read of the chain's end sees every event
# committed before the lock was granted (a single SQL statement would read with a snapshot older than the lock).


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION hearth_audit_append(
            lock_key bigint, canon text[], occurred_at timestamptz[], action text[], object_type text[],
            object_id text[], actor_id uuid[], actor_role text[], practice_id uuid[], outcome text[],
            request_id text[]
        ) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            last_seq bigint;
            prev text;
            seqs bigint[] := '{}';
            prevs text[] := '{}';
            hashes text[] := '{}';
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            SELECT a.seq, a.hash INTO last_seq, prev FROM audit_events AS a ORDER BY a.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                last_seq := 0;
                prev := repeat('0', 64);
            END IF;
            FOR i IN 1 .. coalesce(array_length(canon, 1), 0) LOOP
                last_seq := last_seq + 1;
                seqs := seqs || last_seq;
                prevs := prevs || prev;
                prev := encode(sha256(convert_to(last_seq::text || '|' || prev || '|' || canon[i], 'UTF8')), 'hex');
                hashes := hashes || prev;
            END LOOP;
            INSERT INTO audit_events (seq, occurred_at, action, object_type, object_id, actor_id, actor_role,
                                      practice_id, outcome, request_id, prev_hash, hash)
            SELECT * FROM unnest(seqs, occurred_at, action, object_type, object_id, actor_id, actor_role,
                                 practice_id, outcome, request_id, prevs, hashes);
            RETURN last_seq;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION hearth_audit_append(bigint, text[], timestamptz[], text[], text[], text[], uuid[], text[], uuid[], text[], text[])"
    )
