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
# caller passes each event's canonical form only (domain/audit/events.py `canonical`, JSON with every column);
# the function links them exactly as `chain_hash` does (sha256 of "seq|prev_hash|canonical" in UTF-8, hex) and
# stores the columns read from that JSON. It is volatile PL/pgSQL on purpose: in
# READ COMMITTED each statement inside it takes a new snapshot, so the read of the chain's end sees every event
# committed before the lock was granted (a single SQL statement would read with a snapshot older than the lock).


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION hearth_audit_append(lock_key bigint, canon text[]) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
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
            -- The columns are read back from the canonical JSON, so what is stored is exactly what was hashed.
            INSERT INTO audit_events (seq, occurred_at, action, object_type, object_id, actor_id, actor_role,
                                      practice_id, outcome, request_id, prev_hash, hash)
            SELECT e.seq, (d ->> 'occurred_at')::timestamptz, d ->> 'action', d ->> 'object_type',
                   d ->> 'object_id', (d ->> 'actor_id')::uuid, d ->> 'actor_role', (d ->> 'practice_id')::uuid,
                   d ->> 'outcome', d ->> 'request_id', e.prev, e.hash
            FROM unnest(seqs, prevs, hashes, canon) AS e(seq, prev, hash, doc), LATERAL (SELECT e.doc::jsonb) AS j(d);
            RETURN last_seq;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION hearth_audit_append(bigint, text[])")
